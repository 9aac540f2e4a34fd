"""A deterministic local imitation of the OpenAI Administration API (usage, costs, organization).

Start it in-process with :func:`start_simulator`, or as ``python -m simulator --port P --seed S``::

    with start_simulator(SimulatorConfig(seed=1)) as sim:
        requests.get(f"{sim.base_url}/organization/costs", params={"start_time": t},
                     headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        sim.org.usage_truth(start, end)      # what the API reports, per group
        sim.org.cost_truth(day_start)        # billed rows of one day
        sim.requests                         # (method, path, query, status) log

It imitates the official OpenAPI extract in ``simulator/spec/`` (the contract tests hold it to
the extract) and the behaviour ``simulator/spec/README.md`` describes beyond it; choices where the
real API is undocumented are noted in the modules (``billing``, ``activity``, ``params``,
``server``).
"""

from simulator.config import ADMIN_KEY, PROJECT_KEY, SimulatorConfig
from simulator.server import RequestRecord, SimulatorHandle, start_simulator

__all__ = [
    "ADMIN_KEY",
    "PROJECT_KEY",
    "RequestRecord",
    "SimulatorConfig",
    "SimulatorHandle",
    "start_simulator",
]
