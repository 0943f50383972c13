"""A provider that answers what the test scripts: the errors a spec-driven mock cannot produce (Twilio's 429
with Retry-After, error 21211 for an invalid number, 21610 for an unsubscribed one, SendGrid's 503).

It records every request with the instant it arrived, so a test can check that a retry waited as long as it
was told to.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering: longer than the client waits is no answer at all


@dataclass(frozen=True)
class Received:
    at: float
    method: str
    path: str
    body: bytes


class ScriptedProvider:
    """Answers in order from `script`, then with `default` for anything after."""

    def __init__(self, default: Answer) -> None:
        self.script: deque[Answer] = deque()
        self.default = default
        self.received: list[Received] = []
        self._lock = threading.Lock()

    def answer(self, method: str, path: str, body: bytes) -> Answer:
        with self._lock:
            self.received.append(Received(time.monotonic(), method, path, body))
            return self.script.popleft() if self.script else self.default


@contextmanager
def scripted_provider(default: Answer) -> Iterator[tuple[ScriptedProvider, str]]:
    provider = ScriptedProvider(default)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = provider.answer("POST", self.path, body)
            time.sleep(answer.delay)
            payload = b"" if answer.body is None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: a test's output is its assertions
            return

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            """A client that gave up waiting (the point of `delay`) is not an error worth printing."""

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def twilio_message(sid: str = "SM" + "0" * 32) -> dict[str, Any]:
    """The fields of a created Message the SDK reads."""
    return {"sid": sid, "status": "queued", "account_sid": "AC" + "0" * 32, "body": "", "num_segments": "1"}


def twilio_error(code: int, message: str, status: int = 400) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
