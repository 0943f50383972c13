"""Every shipped template passes `overdue templates lint`, and every lint rule catches a template that breaks it.

The tests, the command and CI share one implementation (overdue/channels/lint.py) and one set of rules
(configs/templates/rules.yaml); what is specific to a template beyond those rules is tested here directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from overdue.channels.context import Sender, sample_context
from overdue.channels.lint import (
    EMAIL_SUBJECT,
    RENDERS,
    SAME_IN_EVERY_LOCALE,
    SMS_LENGTH,
    TIME_BARRED,
    Finding,
    TemplateLinter,
    same_in_every_locale,
)
from overdue.channels.templates import TemplateFile, TemplateRenderer
from overdue.config.template_rules import RULES_FILE, load_template_rules

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "configs" / "templates"
LOCALES = ("en-US", "zh-CN")
SENDER = Sender("Northwind Bank", "1-800-555-0100", "PO Box 7, Springfield, IL 62701")
BUILT_IN = (RENDERS, EMAIL_SUBJECT, SMS_LENGTH, SAME_IN_EVERY_LOCALE)
CONTENT_RULES = tuple(rule.id for rule in load_template_rules(TEMPLATES_DIR).rules)
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


def linter(templates_dir: Path = TEMPLATES_DIR, sms_max_segments: int = 3) -> TemplateLinter:
    renderer = TemplateRenderer(templates_dir)
    return TemplateLinter(renderer, load_template_rules(templates_dir), SENDER, sms_max_segments)


@pytest.fixture(scope="module")
def shipped_findings() -> list[Finding]:
    return linter().lint_all()


@pytest.mark.parametrize("rule", BUILT_IN + CONTENT_RULES)
def test_every_shipped_template_passes(shipped_findings: list[Finding], rule: str) -> None:
    assert [str(finding) for finding in shipped_findings if finding.rule == rule] == []


def test_locales_have_the_same_required_templates() -> None:
    names = {locale: {p.name for p in (TEMPLATES_DIR / locale).glob("*.j2")} for locale in LOCALES}
    assert names["en-US"] == names["zh-CN"]
    assert names["en-US"] >= REQUIRED


# --- each rule catches a template that breaks it ---------------------------------------------------


def lint_one(tmp_path: Path, name: str, text: str, sms_max_segments: int = 3) -> list[Finding]:
    shutil.copy(TEMPLATES_DIR / RULES_FILE, tmp_path / RULES_FILE)
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(text, encoding="utf-8")
    return linter(tmp_path, sms_max_segments).lint(TemplateFile.parse(name))


SMS_EN = "en-US/reminder_firm.sms.j2"
SMS_ZH = "zh-CN/reminder_firm.sms.j2"
EMAIL_EN = "en-US/reminder_firm.email.j2"
EMAIL_ZH = "zh-CN/reminder_firm.email.j2"
SUBJECT = '{% set subject = "Your account" %}'


@pytest.mark.parametrize(
    ("name", "text", "rule", "line", "detail"),
    [
        (SMS_EN, "{{ business_name }}: please pay.", "opt_out", None, "does not state the opt-out instruction"),
        (SMS_EN, "Pay or else. {{ opt_out }}", "no_threats", 1, "'or else'"),
        (SMS_ZH, "请尽快还款，否则后果自负。{{ opt_out }}", "no_threats", 1, "'后果自负'"),
        (
            SMS_EN,
            "Please pay. {{ opt_out }}\n{% if dpd > 9999 %}The police will be told.{% endif %}",
            "no_arrest_or_criminal_claims",
            2,  # in a branch the samples never take: found in the template itself
            "'police' in the template",
        ),
        (SMS_ZH, "【{{ business_name }}】逾期不还将被通缉。{{ opt_out }}", "no_arrest_or_criminal_claims", 1, "'通缉'"),
        (SMS_EN, "Non-payment is a crime. {{ opt_out }}", "no_arrest_or_criminal_claims", 1, "'crime'"),
        (
            EMAIL_EN,
            SUBJECT + "\nPay now or we will tell your employer about it.\n{{ opt_out }}",
            "no_third_party_disclosure",
            2,
            "tell your employer",
        ),
        (
            EMAIL_ZH,
            SUBJECT + "\n我们将通知您的单位和家人。\n{{ opt_out }}",
            "no_third_party_disclosure",
            2,
            "通知您的单位",
        ),
        (SMS_ZH, "请向亲友借钱还款。{{ opt_out }}", "no_pressure_to_borrow", 1, "'借钱'"),
        (SMS_EN, "Borrow from a friend to pay us. {{ opt_out }}", "no_pressure_to_borrow", 1, "'Borrow'"),
        (
            EMAIL_EN,
            SUBJECT + "\nIf you do not pay we may sue you.\n{{ opt_out }}",
            "time_barred_no_legal_threat",
            2,
            "'sue' in the rendered text",
        ),
        (EMAIL_ZH, SUBJECT + "\n我们可能向法院起诉。\n{{ opt_out }}", "time_barred_no_legal_threat", 2, "'法院'"),
        (
            "en-US/reminder_call.voice.j2",
            "This is {{ business_name }} about your overdue balance. Call {{ callback_phone }}.",
            "voice_limited_content",
            1,
            "'overdue'",
        ),
        (
            "en-US/reminder_call.voice.j2",
            "Please call us back.",
            "voice_limited_content",
            None,
            "does not state the callback number",
        ),
        (
            "zh-CN/locate.sms.j2",
            "您好，{{ business_name }}请{{ customer_name }}致电{{ callback_phone }}。{{ opt_out }}",
            "locate_discloses_nothing",
            1,
            "names the business_name 'Northwind Bank'",
        ),
        (
            "en-US/locate.letter.j2",
            "Please ask {{ customer_name }} to call {{ callback_phone }} about their account.",
            "locate_discloses_nothing",
            1,
            "'account'",
        ),
        ("en-US/pre_due.email.j2", "Hello. {{ opt_out }}", EMAIL_SUBJECT, None, "sets no subject"),
        (SMS_EN, "{{ customer_nmae }} {{ opt_out }}", RENDERS, None, "'customer_nmae' is undefined"),
        (SMS_EN, "{% if %}", RENDERS, 1, "TemplateSyntaxError"),
        (
            "en-US/installment_due.sms.j2",
            "{{ offer.total }} {{ opt_out }}",  # an offer exists only for the offer templates
            RENDERS,
            None,
            "UndefinedError",
        ),
    ],
)
def test_a_rule_catches_a_template_that_breaks_it(
    tmp_path: Path, name: str, text: str, rule: str, line: int | None, detail: str
) -> None:
    findings = [finding for finding in lint_one(tmp_path, name, text) if finding.rule == rule]
    assert findings, f"{rule} found nothing"
    assert any(finding.line == line and detail in finding.detail for finding in findings), findings


def test_a_time_barred_threat_is_allowed_only_while_the_debt_is_not_barred(tmp_path: Path) -> None:
    findings = lint_one(tmp_path, EMAIL_EN, SUBJECT + "\n{% if not time_barred %}We may sue.{% endif %}\n{{ opt_out }}")
    assert [f for f in findings if f.rule == "time_barred_no_legal_threat"] == []


def test_the_collection_letter_rule_names_every_missing_element(tmp_path: Path) -> None:
    letter = (TEMPLATES_DIR / "zh-CN" / "reminder_letter.letter.j2").read_text(encoding="utf-8")
    findings = lint_one(tmp_path, "zh-CN/reminder_letter.letter.j2", letter.replace("证据", "材料"))
    assert [f.detail for f in findings] == [
        "does not state that an objection may come with evidence (for a current debt or a time-barred debt)"
    ]


def test_the_validation_notice_rule_wants_every_b1_item(tmp_path: Path) -> None:
    notice = (TEMPLATES_DIR / "en-US" / "validation_notice.email.j2").read_text(encoding="utf-8")
    without = notice.replace("www.cfpb.gov/debt-collection", "our website").replace(
        "{% if time_barred %}", "{% if 0 %}"
    )
    details = {f.detail for f in lint_one(tmp_path, "en-US/validation_notice.email.j2", without)}
    assert details == {
        "does not state the CFPB website (for a current debt or a time-barred debt)",
        "does not state the time-barred disclosure (for a time-barred debt)",
    }


def test_an_sms_longer_than_the_strategy_allows_is_a_finding(tmp_path: Path) -> None:
    offer = (TEMPLATES_DIR / "zh-CN" / "offer.sms.j2").read_text(encoding="utf-8")
    [finding] = [f for f in lint_one(tmp_path, "zh-CN/offer.sms.j2", offer, sms_max_segments=1) if f.rule == SMS_LENGTH]
    assert finding.detail.startswith("renders to 2 segments (UCS-2, ")
    assert finding.detail.endswith("with the longest sample values; the strategy allows 1")
    assert [
        f for f in lint_one(tmp_path, "zh-CN/offer.sms.j2", offer, sms_max_segments=2) if f.rule == SMS_LENGTH
    ] == []


def test_a_template_missing_in_one_language_is_a_finding() -> None:
    files = [
        TemplateFile("en-US", "offer", "sms"),
        TemplateFile("zh-CN", "offer", "sms"),
        TemplateFile("en-US", "x", "sms"),
    ]
    assert [str(f) for f in same_in_every_locale(files)] == [
        "zh-CN/x.sms.j2: same_in_every_locale: missing (shipped in en-US)"
    ]


def test_a_rule_that_selects_no_template_is_a_finding(tmp_path: Path) -> None:
    rules = (TEMPLATES_DIR / RULES_FILE).read_text(encoding="utf-8")
    (tmp_path / RULES_FILE).write_text(rules.replace("templates: [reminder_call]", "templates: [reminder_cal]"))
    shutil.copytree(TEMPLATES_DIR / "en-US", tmp_path / "en-US")
    findings = TemplateLinter(TemplateRenderer(tmp_path), load_template_rules(tmp_path), SENDER, 3).lint_all()
    assert "rules.yaml: voice_limited_content: applies to no shipped template" in [str(f) for f in findings]


# --- what the rules do not express --------------------------------------------------------------------


@pytest.mark.parametrize("dpd", [-3, 0])
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_pre_due_renders_before_and_on_due_date(locale: str, channel: str, dpd: int) -> None:
    context = sample_context(SENDER, locale) | {"dpd": dpd}
    assert context["due_date"] in TemplateRenderer(TEMPLATES_DIR).render("pre_due", channel, locale, context).body


def test_an_english_voicemail_is_short() -> None:
    body = (
        TemplateRenderer(TEMPLATES_DIR).render("reminder_call", "voice", "en-US", sample_context(SENDER, "en-US")).body
    )
    assert len(body.split()) < 60


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("channel", ["letter", "email"])
def test_a_current_debts_validation_notice_makes_no_time_barred_disclosure(locale: str, channel: str) -> None:
    file = TemplateFile(locale, "validation_notice", channel)
    current, barred = (linter().render(file, variant) for variant in ("current debt", TIME_BARRED))
    assert "Northwind Bank will not sue you" not in current.body
    assert "Northwind Bank不会就此债务对您提起诉讼" not in current.body
    assert len(barred.body) > len(current.body)


def test_every_channel_a_relative_may_be_reached_on_has_a_locate_message() -> None:
    from overdue.services.contact_guard import LOCATE_CHANNEL_ORDER

    for locale in LOCALES:
        channels = {
            f.channel for f in TemplateRenderer(TEMPLATES_DIR).shipped() if (f.locale, f.template) == (locale, "locate")
        }
        assert channels == set(LOCATE_CHANNEL_ORDER)
