"""One measurement: evaluate the program under the mocks with N clients.

    python -m bench.evaluate 100

Prints JSON: clients, seconds (wall time of the program run, registrations included) and peak
resident memory of this process in MiB. Run in a fresh process per N so that peak memory
belongs to that N alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from support.mock_runtime import MockRuntime
from support.stack_configs import minimal_config


def config_with_clients(count: int) -> dict[str, object]:
    config = minimal_config()
    config["pki"]["clientCa"] = {"commonName": "Bench Clients CA"}
    config["pki"]["clients"] = [{"name": f"client-{index:05d}"} for index in range(count)]
    return config


def main() -> None:
    count = int(sys.argv[1])
    runtime = MockRuntime()
    started = time.perf_counter()
    outputs = runtime.run_program(config_with_clients(count))
    certificates = runtime.resolve(outputs["clientCertificates"])
    elapsed = time.perf_counter() - started
    runtime.close()
    assert len(certificates) == count
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"clients": count, "seconds": elapsed, "peak_rss_mib": peak_mib}))


if __name__ == "__main__":
    main()
