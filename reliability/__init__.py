"""Reliability suite: API faults, crashes, concurrency, secrets, bad input, endurance.

`make reliability` runs everything and writes `RELIABILITY.md` and `reliability/results.json`;
`tests/test_reliability.py` runs one case per group in `make test`.
"""
