"""Personal data is masked in every log line, including those Prefect ships to its API; ordinary numbers are not."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from uuid import UUID

import pytest

from overdue.logging_redaction import RedactionFilter, install_redaction, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +12125550123 now", "call [phone] now"),
        ("call (212) 555-0123", "call [phone]"),
        ("call 212-555-0123 or 1-212-555-0123", "call [phone] or [phone]"),
        ("拨打 138 0013 8000", "拨打 [phone]"),
        ("mobile 13800138000.", "mobile [phone]."),
        ("call +86 186 1234 5678", "call [phone]"),
        ("call +1 (212) 555-0123", "call [phone]"),
        ("mail li.wei+collections@example.com.cn today", "mail [email] today"),
        ("id 11010519491231002X", "id [id]"),
        ("id 110105194912310021,", "id [id],"),
        ("ssn 123-45-6789", "ssn [ssn]"),
        ("card 4111 1111 1111 1111", "card [card]"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("card 378282246310005", "card [card]"),
        ("card 6222021234567890123", "card [card]"),
        ("card 5555 5555 5555 4444, amex 3782 822463 10005", "card [card], amex [card]"),
        ("id 99010519800101001x and 11010519491231002X.", "id [id] and [id]."),
        ("iban GB82 WEST 1234 5698 7654 32 on file", "iban [iban] on file"),
        ("iban DE89370400440532013000, NO93 8601 1117 947", "iban [iban], [iban]"),
        ("bank account 000123456789", "bank account [number]"),
        ("bank account 0000 1234 5678 9012 345", "bank account [card]"),
        ("ssn 900123456", "ssn [number]"),
        ("input_value='4111 1111 1111 1112'", "input_value='[card]'"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "collected 1234.56 USD (123456 minor units) from 12 accounts",
        "business date 2026-03-07, sent at 2026-03-07T10:00:00+08:00",
        "account A-US-1001, customer C-CN-000123, task 42, shard (1, 10000)",
        "key reminder:3:2026-02-13:pre_due_sms:sms",
        "flow run 0b8a4d7e-1234-4f4e-9a1b-123456789012 finished in 2.5 s, version 3.11.2",
        "outstanding 1234567890.12 USD on 20260307, account last4 1234, refs A-US00000001 C-CN00001234",
    ],
)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert redact(text) == text


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def capture() -> Iterator[Capture]:
    logger = logging.getLogger("tests.redaction")
    handler = Capture()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


def test_the_filter_redacts_the_message_formatted_with_its_args(capture: Capture) -> None:
    capture.addFilter(RedactionFilter())
    logging.getLogger("tests.redaction").info("texted %s at %s for %.2f", "+12125550123", "2026-03-07", 1234.56)
    assert capture.lines == ["INFO texted [phone] at 2026-03-07 for 1234.56"]


def test_the_filter_redacts_exception_text(capture: Capture) -> None:
    capture.addFilter(RedactionFilter())
    try:
        raise ValueError("no such address li@example.com")
    except ValueError:
        logging.getLogger("tests.redaction").exception("send failed for %s", "li@example.com")
    assert "li@example.com" not in "\n".join(capture.lines)
    assert "ValueError: no such address [email]" in capture.lines[0]


def test_installed_redaction_covers_every_logger_without_a_filter(capture: Capture) -> None:
    install_redaction()
    install_redaction()  # idempotent: the record factory is wrapped once
    logging.getLogger("tests.redaction").warning("SSN %s, card %s", "123-45-6789", "4111 1111 1111 1111")
    assert capture.lines == ["WARNING SSN [ssn], card [card]"]


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_prefect_run_logs_reach_the_api_redacted() -> None:
    """What Prefect stores (and shows in its UI) is what its API log handler sent: it must be masked."""
    from prefect import flow, get_run_logger
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.context import FlowRunContext

    install_redaction()

    @flow(name="redaction-check")
    def talkative() -> UUID:
        get_run_logger().info("reminder to %s and %s", "+86 186 1234 5678", "wei@example.cn")
        context = FlowRunContext.get()
        assert context is not None
        assert context.flow_run is not None
        return context.flow_run.id

    flow_run_id = talkative()
    only_this_run = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    messages: list[str] = []
    deadline = time.monotonic() + 30  # the API log handler sends in batches, every couple of seconds
    with get_client(sync_client=True) as client:
        while not messages and time.monotonic() < deadline:
            time.sleep(0.5)
            messages = [log.message for log in client.read_logs(only_this_run) if log.message.startswith("reminder")]
    assert messages == ["reminder to [phone] and [email]"]
