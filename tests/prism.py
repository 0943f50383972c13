"""Stoplight Prism serving the providers' own OpenAPI specs as request-validating mocks (tools/prism).

Started once per test session (and by the benchmarks), one server per spec on a free port, and stopped at the
end. A missing Node.js or a mock that does not start raises `MissingComponent`: the test fixture turns it into
a loud skip (a failure under CI=true, see tests/support.require).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRISM_DIR = Path(__file__).resolve().parents[1] / "tools" / "prism"
PRISM_JS = PRISM_DIR / "node_modules" / "@stoplight" / "prism-cli" / "dist" / "index.js"
TWILIO_SPEC = PRISM_DIR / "specs" / "twilio-oai" / "twilio_api_v2010.json"
SENDGRID_SPEC = PRISM_DIR / "specs" / "twilio-sendgrid-oai" / "tsg_mail_v3.json"
DIGESTS = {
    TWILIO_SPEC: "99cae87a6bb1725f71363364cbd30282a13140374b2d5f9bdd5bdfa5d4c8a6d7",
    SENDGRID_SPEC: "4ba24d0feb8a6b347f60528161d1cf0e7591987d2b3a64a6533685dc2b39d19f",
}
START_TIMEOUT = 90.0


class MissingComponent(RuntimeError):
    def __init__(self, component: str, reason: str) -> None:
        super().__init__(f"{component}: {reason}")
        self.component = component
        self.reason = reason


@dataclass(frozen=True)
class ProviderMocks:
    twilio_url: str
    sendgrid_url: str


def install_prism() -> None:
    """`npm ci` from the committed lock file, once; a missing Node.js is a missing component."""
    if not (shutil.which("node") and shutil.which("npm")):
        raise MissingComponent("Node.js", "node and npm are needed to run Prism (tools/prism)")
    if PRISM_JS.exists():
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PRISM_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not PRISM_JS.exists():
        raise MissingComponent("Prism", f"npm ci failed: {done.stderr[-2000:]}")


def checked(spec: Path) -> dict[str, Any]:
    """The spec as committed: a changed file would make the mock test something other than the provider's API."""
    raw = spec.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    assert digest == DIGESTS[spec], f"{spec} changed (sha256 {digest}); see tools/prism/README.md"
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def accept_single_values(spec: dict[str, Any]) -> int:
    """Let every list-valued form field also be a single string (Prism issue #2473); returns how many."""
    patched = 0
    for path in spec["paths"].values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for media in operation.get("requestBody", {}).get("content", {}).values():
                properties = media.get("schema", {}).get("properties", {})
                for name, schema in list(properties.items()):
                    if schema.get("type") == "array":
                        properties[name] = {
                            "description": schema.get("description", ""),
                            "anyOf": [schema["items"], schema],
                        }
                        patched += 1
    return patched


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def prism(spec: Path, log: Path) -> Iterator[str]:
    """One mock server for `spec`, answering at the URL yielded."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            ["node", str(PRISM_JS), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "warn", str(spec)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops everything it started
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise MissingComponent("Prism", f"{spec.name} mock did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def twilio_spec(folder: Path) -> Path:
    """The Twilio spec as Prism can serve it (list-valued form fields patched), written into `folder`."""
    twilio = checked(TWILIO_SPEC)
    assert accept_single_values(twilio) > 0
    patched = folder / "twilio_api_v2010.patched.json"
    patched.write_text(json.dumps(twilio))
    return patched


def sendgrid_spec() -> Path:
    checked(SENDGRID_SPEC)
    return SENDGRID_SPEC


@contextmanager
def provider_mocks(folder: Path) -> Iterator[ProviderMocks]:
    install_prism()
    with (
        prism(twilio_spec(folder), folder / "twilio.log") as twilio_url,
        prism(sendgrid_spec(), folder / "sendgrid.log") as sendgrid_url,
    ):
        yield ProviderMocks(twilio_url, sendgrid_url)
