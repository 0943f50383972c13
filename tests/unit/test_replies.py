"""Reading customers' replies: keywords, intents and promised dates, in English and Chinese."""

from __future__ import annotations

from datetime import date

import pytest

from overdue.domain.replies import (
    ACCEPT,
    AFFORDABILITY,
    CALLBACK,
    COMPLAINT,
    DISPUTE,
    HARDSHIP,
    HELP,
    OTHER,
    PAID,
    PROMISE,
    START,
    STOP,
    WRONG_NUMBER,
    Means,
    Reply,
    classify,
    promised_date,
)

TODAY = date(2026, 3, 11)  # a Wednesday


@pytest.mark.parametrize(
    "text", ["STOP", "stop", " Stop! ", "QUIT", "END", "REVOKE", "OPT OUT", "opt   out", "CANCEL", "UNSUBSCRIBE", "TD"]
)
def test_every_tcpa_keyword_alone_is_a_revocation(text: str) -> None:
    assert classify(text, TODAY) == Reply(STOP)


@pytest.mark.parametrize(
    "text",
    [
        "Please stop texting me",
        "don't call me again",
        "Do not contact me",
        "remove me from your list",
        "退订",
        "请不要再发短信了",
        "别再打了",
    ],
)
def test_a_clear_request_to_stop_in_other_words_is_a_revocation(text: str) -> None:
    assert classify(text, TODAY) == Reply(STOP)


@pytest.mark.parametrize("text", ["End of month I will pay", "Can I cancel the late fee?", "I will pay by the end"])
def test_a_keyword_inside_a_sentence_about_something_else_is_not(text: str) -> None:
    assert classify(text, TODAY).intent != STOP


@pytest.mark.parametrize(("text", "intent"), [("START", START), ("unstop", START), ("HELP", HELP), ("info", HELP)])
def test_start_and_help(text: str, intent: str) -> None:
    assert classify(text, TODAY) == Reply(intent)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I already paid this yesterday", PAID),
        ("Payment was made on Monday", PAID),
        ("我已经还了", PAID),
        ("This is not my debt", DISPUTE),
        ("I don't owe you anything, the amount is wrong", DISPUTE),
        ("这不是我的欠款，我有异议", DISPUTE),
        ("I lost my job and can't pay right now", HARDSHIP),
        ("in hospital, will pay Friday", HARDSHIP),  # the harder fact wins
        ("我失业了，还不起", HARDSHIP),
        ("Wrong number, who is this?", WRONG_NUMBER),
        ("我不认识这个人，你们发错了", WRONG_NUMBER),
        ("ok", OTHER),
        ("I'll pay soon", OTHER),  # a promise without a date goes to a person
        ("I want to complain about the rude collector", COMPLAINT),
        ("Your calls are harassment, I will report you to the CFPB", COMPLAINT),
        ("我要投诉你们的催收员", COMPLAINT),
        ("Can you call me?", CALLBACK),
        ("Please call me back after 5pm", CALLBACK),
        ("请给我回电", CALLBACK),
        ("Don't call me", STOP),  # a request to stop is never read as a request to be called
        ("call me, I lost my job", HARDSHIP),
    ],
)
def test_free_text_intents(text: str, intent: str) -> None:
    assert classify(text, TODAY).intent == intent


@pytest.mark.parametrize(
    ("text", "promised"),
    [
        ("I will pay on 2026-03-20", date(2026, 3, 20)),
        ("I'll pay 3/20", date(2026, 3, 20)),
        ("will pay 3/20/27", date(2027, 3, 20)),
        ("I can pay March 20th", date(2026, 3, 20)),
        ("paying on the 20th", date(2026, 3, 20)),
        ("paying on the 5th", date(2026, 4, 5)),  # the 5th has passed this month
        ("I'll send the money on 2 April", date(2026, 4, 2)),
        ("will pay Friday", date(2026, 3, 13)),
        ("will pay next Wednesday", date(2026, 3, 18)),  # never today: the next one
        ("I'll pay tomorrow", date(2026, 3, 12)),
        ("payment end of month", date(2026, 3, 31)),
        ("will pay Jan 5", date(2027, 1, 5)),  # January has passed: next year's
        ("我3月20日还款", date(2026, 3, 20)),
        ("下周五还钱", date(2026, 3, 20)),
        ("周五还款", date(2026, 3, 13)),
        ("明天还上", date(2026, 3, 12)),
        ("月底还款", date(2026, 3, 31)),
    ],
)
def test_a_promise_with_a_date(text: str, promised: date) -> None:
    assert classify(text, TODAY) == Reply(PROMISE, promised)


@pytest.mark.parametrize("text", ["pay on 2/30", "pay on 2025-12-01", "pay on 13/45", "decide 3 options"])
def test_no_date_is_invented(text: str) -> None:
    assert promised_date(text, TODAY) is None


@pytest.mark.parametrize("text", ["YES", "yes!", "Accept", "同意", "接受"])
def test_a_plain_yes_accepts_the_offer(text: str) -> None:
    assert classify(text, TODAY) == Reply(ACCEPT)


@pytest.mark.parametrize(
    ("text", "means"),
    [
        ("income 3,200 expenses 2100.50 dependants 2", Means("3200", "2100.50", 2)),
        ("I earn $2000 and my bills are $1800, 3 kids", Means("2000", "1800", 3)),
        ("收入3000元，支出2000，家属2人", Means("3000", "2000", 2)),
        ("lost my job: income 900 expenses 1500", Means("900", "1500", 0)),  # the figures say more than the words
    ],
)
def test_stated_income_and_expenses_are_read(text: str, means: Means) -> None:
    assert classify(text, TODAY) == Reply(AFFORDABILITY, means=means)


@pytest.mark.parametrize("text", ["yes but not now", "my income is low", "expenses 300"])
def test_half_a_statement_or_a_qualified_yes_goes_to_a_person(text: str) -> None:
    assert classify(text, TODAY).intent not in (ACCEPT, AFFORDABILITY)
