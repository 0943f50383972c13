"""Every message template renders with the documented context and stays within the content rules."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from overdue.channels.templates import Rendered, TemplateRenderer

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "configs" / "templates"
LOCALES = ("en-US", "zh-CN")
TEMPLATE_FILES = sorted(TEMPLATES_DIR.glob("*/*.j2"))
OPT_OUT = {"en-US": "Reply STOP to opt out.", "zh-CN": "回复TD退订"}

REQUIRED = {
    "pre_due.sms.j2",
    "pre_due.email.j2",
    "reminder_early.sms.j2",
    "reminder_early.email.j2",
    "reminder_firm.sms.j2",
    "reminder_firm.email.j2",
    "reminder_call.voice.j2",
    "reminder_letter.letter.j2",
    "offer.email.j2",
    "offer.sms.j2",
    "offer.letter.j2",
    "installment_due.sms.j2",
    "installment_late.sms.j2",
}
VOICE_BANNED = ("debt", "overdue", "owe", "balance", "payment", "欠款", "逾期", "还款")
FORBIDDEN = (
    "arrest",
    "police",
    "criminal",
    "jail",
    "prison",
    "warrant",
    "逮捕",
    "警察",
    "公安",
    "通缉",
    "坐牢",
    "刑事",
    "borrow",
    "借钱",
)
# Words that threaten legal action; a time-barred debt's messages may carry none of them except in the
# one sentence that promises not to sue (12 CFR 1006.26(b)).
LEGAL_THREATS = re.compile(r"\b(sue|sued|suing|lawsuit|court|legal action|attorney)\b|起诉|诉讼|法院|律师|仲裁")
BARRED_DISCLOSURE = {
    "en-US": "The law limits how long you can be sued on a debt. "
    "Because of the age of your debt, Northwind Bank will not sue you for it.",
    "zh-CN": "法律对债务的起诉期限有所限制。由于您的债务已超过该期限，Northwind Bank不会就此债务对您提起诉讼。",
}


def parts(path: Path) -> tuple[str, str, str]:
    """(locale, template, channel) for configs/templates/{locale}/{template}.{channel}.j2."""
    template, channel, _ = path.name.split(".")
    return path.parent.name, template, channel


@pytest.fixture
def context() -> dict[str, Any]:
    return {
        "customer_name": "Alex Morgan",
        "business_name": "Northwind Bank",
        "account_ref": "••••1234",
        "balance": "$1,234.56",
        "principal": "$1,100.00",
        "interest": "$94.56",
        "fees": "$40.00",
        "due_date": "June 1, 2025",
        "dpd": 14,
        "callback_phone": "1-800-555-0100",
        "opt_out": OPT_OUT["en-US"],
        "offer": SimpleNamespace(
            installments=6,
            installment_amount="$205.76",
            total="$1,234.56",
            first_due_date="June 22, 2025",
            expires_on="June 29, 2025",
        ),
        "installment": SimpleNamespace(seq=2, count=6, amount="$205.76", due_date="July 22, 2025"),
        "validation": SimpleNamespace(
            itemization_date="June 1, 2025",
            balance_then="$1,200.00",
            charges_since="$34.56",
            paid_since="$0.00",
            balance_now="$1,234.56",
            ends_on="July 8, 2025",
        ),
        "time_barred": False,
    }


@pytest.fixture
def renderer() -> TemplateRenderer:
    return TemplateRenderer(TEMPLATES_DIR)


def render(renderer: TemplateRenderer, path: Path, context: dict[str, Any]) -> Rendered:
    locale, template, channel = parts(path)
    # offer.* / installment.* belong only to their own templates: elsewhere they are None, so any
    # stray reference fails under StrictUndefined.
    ctx = {
        **context,
        "opt_out": OPT_OUT[locale],
        "offer": context["offer"] if template == "offer" else None,
        "installment": context["installment"] if template.startswith("installment") else None,
        "validation": context["validation"] if template == "validation_notice" else None,
    }
    return renderer.render(template, channel, locale, ctx)


def over(paths: list[Path]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("path", paths, ids=[str(p.relative_to(TEMPLATES_DIR)) for p in paths])


by_file = over(TEMPLATE_FILES)
by_sms_or_email = over([p for p in TEMPLATE_FILES if parts(p)[2] in ("sms", "email")])
by_email = over([p for p in TEMPLATE_FILES if parts(p)[2] == "email"])


def test_locales_have_the_same_required_templates() -> None:
    names = {locale: {p.name for p in (TEMPLATES_DIR / locale).glob("*.j2")} for locale in LOCALES}
    assert names["en-US"] == names["zh-CN"]
    assert names["en-US"] >= REQUIRED


@by_file
def test_renders_with_non_empty_body(renderer: TemplateRenderer, path: Path, context: dict[str, Any]) -> None:
    out = render(renderer, path, context)
    assert out.body.strip()
    assert out.body == out.body.strip()


@pytest.mark.parametrize("dpd", [-3, 0])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_pre_due_renders_before_and_on_due_date(
    renderer: TemplateRenderer, context: dict[str, Any], locale: str, channel: str, dpd: int
) -> None:
    path = TEMPLATES_DIR / locale / f"pre_due.{channel}.j2"
    assert context["due_date"] in render(renderer, path, {**context, "dpd": dpd}).body


@by_sms_or_email
def test_sms_and_email_carry_opt_out(renderer: TemplateRenderer, path: Path, context: dict[str, Any]) -> None:
    body = render(renderer, path, context).body
    if parts(path)[1] == "optout_confirmation":  # the one message after an opt-out says how to undo it instead
        assert "START" in body
        assert OPT_OUT[parts(path)[0]] not in body
    else:
        assert OPT_OUT[parts(path)[0]] in body


@by_email
def test_email_has_subject(renderer: TemplateRenderer, path: Path, context: dict[str, Any]) -> None:
    subject = render(renderer, path, context).subject
    assert subject
    assert subject.strip()


@pytest.mark.parametrize("locale", LOCALES)
def test_voice_is_a_limited_content_message(renderer: TemplateRenderer, context: dict[str, Any], locale: str) -> None:
    body = render(renderer, TEMPLATES_DIR / locale / "reminder_call.voice.j2", context).body
    assert not [word for word in VOICE_BANNED if word in body.lower()]
    assert context["callback_phone"] in body
    assert context["business_name"] in body
    if locale == "en-US":
        assert len(body.split()) < 60


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", ["reminder_letter", "offer"])
def test_letters_state_amounts_and_contact(
    renderer: TemplateRenderer, context: dict[str, Any], locale: str, template: str
) -> None:
    body = render(renderer, TEMPLATES_DIR / locale / f"{template}.letter.j2", context).body
    assert context["customer_name"] in body
    assert context["callback_phone"] in body
    if template == "reminder_letter":
        for key in ("balance", "principal", "interest", "fees", "due_date"):
            assert context[key] in body, key


@by_file
def test_no_forbidden_words(renderer: TemplateRenderer, path: Path, context: dict[str, Any]) -> None:
    out = render(renderer, path, context)
    # Check the source too, so text in branches the sample context does not take is covered.
    text = "\n".join([path.read_text(encoding="utf-8"), out.subject or "", out.body]).lower()
    assert not [word for word in FORBIDDEN if word in text]


@by_file
def test_time_barred_debts_are_never_threatened_with_legal_action(
    renderer: TemplateRenderer, path: Path, context: dict[str, Any]
) -> None:
    locale = parts(path)[0]
    out = render(renderer, path, {**context, "time_barred": True})
    text = "\n".join([out.subject or "", out.body]).replace(BARRED_DISCLOSURE[locale], "").lower()
    assert not LEGAL_THREATS.findall(text)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", ["letter", "email"])
def test_validation_notice_itemizes_and_dates_the_period(
    renderer: TemplateRenderer, context: dict[str, Any], locale: str, channel: str
) -> None:
    path = TEMPLATES_DIR / locale / f"validation_notice.{channel}.j2"
    body = render(renderer, path, context).body
    for key in ("itemization_date", "balance_then", "charges_since", "paid_since", "balance_now", "ends_on"):
        assert getattr(context["validation"], key) in body, key
    assert BARRED_DISCLOSURE[locale] not in body
    assert BARRED_DISCLOSURE[locale] in render(renderer, path, {**context, "time_barred": True}).body


LOCATE_FILES = [p for p in TEMPLATE_FILES if parts(p)[1] == "locate"]


@over(LOCATE_FILES)
def test_a_third_party_is_told_nothing_about_a_debt_or_who_is_asking(
    renderer: TemplateRenderer, path: Path, context: dict[str, Any]
) -> None:
    """Location messages (12 CFR 1006.10; 消费金融催收行业指引): a name to pass on and a number, nothing else."""
    out = render(renderer, path, context)
    text = "\n".join([path.read_text(encoding="utf-8"), out.subject or "", out.body]).lower()
    assert not [word for word in (*VOICE_BANNED, "collect", "account", "催收", "账户", "欠") if word in text]
    assert context["business_name"].lower() not in text
    assert context["callback_phone"] in out.body
    assert context["customer_name"] in out.body


def test_every_channel_a_relative_may_be_reached_on_has_a_locate_message() -> None:
    from overdue.services.contact_guard import LOCATE_CHANNEL_ORDER

    for locale in LOCALES:
        assert {parts(p)[2] for p in LOCATE_FILES if parts(p)[0] == locale} == set(LOCATE_CHANNEL_ORDER)
