"""The whole stack on one machine: a Prefect server with its UI, the served deployments and the dashboard,
on loopback, started by one command and stopped cleanly by Ctrl-C (`make up`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Annotated

import httpx
import typer

from overdue.cli.common import console, fail, runtime
from overdue.settings import get_settings

HOST = "127.0.0.1"


def serve() -> None:
    """Run the deployments (daily cycle on OVERDUE_CYCLE_CRON in OVERDUE_PORTFOLIO_TIME_ZONE, the outbox every
    OVERDUE_DISPATCH_EVERY_MINUTES) against the Prefect server in PREFECT_API_URL, until stopped."""
    if not os.environ.get("PREFECT_API_URL"):
        raise fail("PREFECT_API_URL is not set: start a server (`make up` does) or point at yours.", 2)
    runtime()  # a missing schema or a bad config is reported now, not at the first scheduled run
    from flows.deployments import serve_deployments

    serve_deployments(get_settings())


def up(
    prefect_port: Annotated[int, typer.Option(help="Prefect server and UI.")] = 4200,
    dashboard_port: Annotated[int, typer.Option(help="Streamlit dashboard.")] = 8501,
    ready_timeout: Annotated[float, typer.Option(help="Seconds to wait for each part to answer.")] = 120.0,
) -> None:
    """Start the Prefect server, the deployments and the dashboard on loopback; Ctrl-C stops them all."""
    runtime()
    api = f"http://{HOST}:{prefect_port}/api"
    env = os.environ | {"PREFECT_API_URL": api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    overdue = [sys.executable, "-m", "overdue"]
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        children.append(_start(["prefect", "server", "start", "--host", HOST, "--port", str(prefect_port)], env))
        _wait_for(f"{api}/health", "Prefect server", ready_timeout, children)
        children.append(_start([*overdue, "serve"], env))
        children.append(_start([*overdue, "dashboard", "--headless", "--port", str(dashboard_port)], env))
        _wait_for(f"http://{HOST}:{dashboard_port}/_stcore/health", "dashboard", ready_timeout, children)
        console.print(
            f"Up: Prefect UI http://{HOST}:{prefect_port} (deployments daily-cycle/daily, outbox-dispatch/"
            f"every-few-minutes), dashboard http://{HOST}:{dashboard_port}. Ctrl-C stops everything."
        )
        while not stopping:
            if any(child.poll() is not None for child in children):
                raise fail("A part of the stack stopped on its own; stopping the rest.")
            time.sleep(0.5)
    finally:
        _stop_all(children)
    console.print("Stopped.")


def _start(command: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    if command[0] == "prefect":
        command = [sys.executable, "-m", "prefect", *command[1:]]
    return subprocess.Popen(command, env=env, start_new_session=True)  # its own group: we stop it whole


def _wait_for(url: str, what: str, timeout: float, children: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise fail(f"The {what} did not start (a process exited).")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise fail(f"The {what} did not answer at {url} within {timeout:.0f} s.")


def _stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to each process group, newest first; SIGKILL to whatever is still there after 15 s."""
    for child in reversed(children):
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in reversed(children):
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
