"""`make up`: the Prefect server, the served deployments and the dashboard come up on loopback with one
command, and Ctrl-C stops every one of them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_up_starts_the_stack_with_its_deployments_and_ctrl_c_stops_it(sqlite_url: str, tmp_path: Path) -> None:
    prefect, dashboard = free_port(), free_port()
    log = tmp_path / "up.log"
    env = os.environ | {"OVERDUE_DATABASE_URL": sqlite_url, "PREFECT_HOME": str(tmp_path / "prefect")}
    command = [
        sys.executable,
        "-m",
        "overdue",
        "up",
        "--prefect-port",
        str(prefect),
        "--dashboard-port",
        str(dashboard),
    ]
    with log.open("wb") as out:
        stack = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 180
            while "Up:" not in log.read_text(errors="replace"):
                assert stack.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.5)
            api = f"http://127.0.0.1:{prefect}/api"
            found: list[dict[str, str]] = []
            while time.monotonic() < deadline and len(found) < 5:  # the deployments register once served
                found = httpx.post(f"{api}/deployments/filter", json={}).json()
                time.sleep(0.5)
            flows = {f["id"]: f["name"] for f in httpx.post(f"{api}/flows/filter", json={}).json()}
            assert {(flows[d["flow_id"]], d["name"]) for d in found} == {
                ("daily-cycle", "daily"),
                ("outbox-dispatch", "every-few-minutes"),
                ("sla-sweep", "every-few-minutes"),
                ("housekeeping", "daily"),
                ("legal-case-proceed", "on-approval"),
            }
            assert httpx.get(f"http://127.0.0.1:{dashboard}/_stcore/health").status_code == 200
        finally:
            stack.send_signal(signal.SIGINT)
            code = stack.wait(timeout=60)
    assert code == 0, log.read_text(errors="replace")
    assert "Stopped." in log.read_text(errors="replace")
    for port in (prefect, dashboard):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
