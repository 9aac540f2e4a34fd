"""Benchmarks of the ingest against the local simulator (`make bench`, BENCHMARKS.md).

Each measured run is a fresh subprocess (`bench.worker`) so wall time, CPU and peak RSS belong to
that run alone; the simulator (`bench.simserver`) and the page replayer (`bench.replay`) serve
from their own processes so their cost is not counted in the client.
"""
