"""A moto server in a thread on a free loopback port, with a reset between tests.

It is tuned as the local stack's moto is (`tasks.local.aws.tune_moto`), so tests and the stack
see the same AWS.
"""

from __future__ import annotations

import json
import urllib.request

from moto.server import ThreadedMotoServer

from tasks.local.aws import tune_moto


class MotoServer:
    """moto in server mode: real HTTP, so boto3 runs its whole stack (signing, retries, parsing)."""

    def __init__(self) -> None:
        tune_moto()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> MotoServer:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def reset(self) -> None:
        """Forget every resource (all services) — each test bootstraps its own."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            json.loads(response.read() or b"{}")

    def stop(self) -> None:
        self._server.stop()
