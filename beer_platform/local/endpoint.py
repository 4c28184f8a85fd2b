"""moto's server as the local AWS endpoint, changed as the platform and Terraform need it
(`local.moto_patches`), in this process.

`serve` is what the local stack runs. `python -m beer_platform.local.endpoint --port P --lifetime S`
runs one alone (no recording, no registry) until SIGTERM or S seconds, for a Terraform root applied
to an endpoint of its own (the tests' harness); set MOTO_IAM_LOAD_MANAGED_POLICIES=true for a root
that attaches AWS managed policies.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx


def serve(port: int, recording: Path | None = None, registry_host: str | None = None) -> Any:
    """A started `ThreadedMotoServer` on 127.0.0.1:`port`, answering; `recording`: where moto
    appends every request (for replay at the next start)."""
    if recording is not None:  # moto reads these once, when its recorder is created at import
        os.environ["MOTO_ENABLE_RECORDING"] = "true"
        os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    # No Docker here: Lambda functions must be created without it (field notes).
    default_user_config["lambda"]["use_docker"] = False
    from beer_platform.local.moto_patches import as_terraform_expects, keep_version_code, point_ecr_at

    keep_version_code()
    as_terraform_expects()
    if registry_host:
        point_ecr_at(registry_host)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    deadline = time.monotonic() + 30
    while not healthy(f"http://127.0.0.1:{port}"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"moto did not answer on 127.0.0.1:{port} in 30s")
        time.sleep(0.1)
    return server


def healthy(endpoint: str) -> bool:
    """moto answers. Its dashboard, not `/moto-api/data.json`: once a Lambda function exists,
    dumping the state tries to reach Docker and answers 500 (see FIELD_NOTES)."""
    try:
        return httpx.get(f"{endpoint}/moto-api/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description="moto on 127.0.0.1, as the local stack runs it")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lifetime", type=float, default=1800.0, help="seconds before it stops by itself")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = serve(args.port)
    print(f"moto on http://127.0.0.1:{args.port}", flush=True)
    try:
        stop.wait(args.lifetime)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
