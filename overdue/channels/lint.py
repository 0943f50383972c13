"""`overdue templates lint`: every shipped template, rendered in its language with sample values for a
current and a time-barred debt, checked against the content rules in configs/templates/rules.yaml and a
few structural checks. The command, CI (`make lint`) and the test suite all call this one implementation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from overdue.channels.context import LONGEST, Sender, sample_context
from overdue.channels.templates import TemplateFile, TemplateRenderer
from overdue.config.template_rules import RULES_FILE, ContentRule, TemplateRules
from overdue.domain.sms import sms_size

RENDERS = "renders"
EMAIL_SUBJECT = "email_subject"
SMS_LENGTH = "sms_length"
SAME_IN_EVERY_LOCALE = "same_in_every_locale"
CURRENT, TIME_BARRED = "current debt", "time-barred debt"


@dataclass(frozen=True, order=True)
class Finding:
    template: str  # the file under the templates folder, e.g. zh-CN/offer.sms.j2
    line: int | None
    rule: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.template}:{self.line}" if self.line else self.template
        return f"{where}: {self.rule}: {self.detail}"


@dataclass(frozen=True)
class Render:
    variant: str
    context: dict[str, Any]
    subject: str | None
    body: str

    @property
    def text(self) -> str:
        return "\n".join(filter(None, (self.subject, self.body)))


def scoped(context: dict[str, Any], template: str) -> dict[str, Any]:
    """`offer`, `installment` and `validation` exist only for their own templates; elsewhere they are None, so
    a stray reference fails under StrictUndefined instead of reaching a customer in the wrong stage."""
    return context | {
        "offer": context["offer"] if template == "offer" else None,
        "installment": context["installment"] if template.startswith("installment") else None,
        "validation": context["validation"] if template == "validation_notice" else None,
    }


class TemplateLinter:
    def __init__(self, renderer: TemplateRenderer, rules: TemplateRules, sender: Sender, sms_max_segments: int):
        self.renderer = renderer
        self.rules = rules.rules
        self.sender = sender
        self.sms_max_segments = sms_max_segments

    def lint_all(self) -> list[Finding]:
        files = self.renderer.shipped()
        findings = list(same_in_every_locale(files))
        for rule in self.rules:  # a misspelt template name would otherwise make a rule pass by checking nothing
            if not any(rule.applies_to.covers(f.template, f.channel, f.locale) for f in files):
                findings.append(Finding(RULES_FILE, None, rule.id, "applies to no shipped template"))
        for file in files:
            findings += self.lint(file)
        return sorted(set(findings))

    def lint(self, file: TemplateFile) -> list[Finding]:
        try:
            renders = [self.render(file, CURRENT), self.render(file, TIME_BARRED)]
            longest = [self.render(file, CURRENT, values=LONGEST), self.render(file, TIME_BARRED, values=LONGEST)]
        except jinja2.TemplateError as exc:
            return [Finding(file.name, getattr(exc, "lineno", None), RENDERS, f"{exc.__class__.__name__}: {exc}")]
        source = self.renderer.source(file.name)
        findings = [
            Finding(file.name, None, RENDERS, f"renders to an empty text for a {r.variant}")
            for r in renders
            if not r.body
        ]
        if file.channel == "email" and not all((r.subject or "").strip() for r in renders):
            findings.append(Finding(file.name, None, EMAIL_SUBJECT, 'sets no subject: {% set subject = "..." %}'))
        if file.channel == "sms":
            findings += self._sms_length(file, longest)
        for rule in self.rules:
            if rule.applies_to.covers(file.template, file.channel, file.locale):
                checked = [r for r in renders if r.variant == TIME_BARRED or not rule.only_time_barred]
                findings += check_rule(rule, file, source, checked)
        return findings

    def render(self, file: TemplateFile, variant: str, **sample: Any) -> Render:
        barred = variant == TIME_BARRED
        context = scoped(sample_context(self.sender, file.locale, time_barred=barred, **sample), file.template)
        out = self.renderer.render(file.template, file.channel, file.locale, context)
        return Render(variant, context, out.subject, out.body)

    def _sms_length(self, file: TemplateFile, renders: list[Render]) -> list[Finding]:
        size = max((sms_size(r.body) for r in renders), key=lambda size: size.units)
        if size.segments <= self.sms_max_segments:
            return []
        detail = (
            f"renders to {size.describe()} with the longest sample values; the strategy allows {self.sms_max_segments}"
        )
        return [Finding(file.name, None, SMS_LENGTH, detail)]


def check_rule(rule: ContentRule, file: TemplateFile, source: str, renders: list[Render]) -> list[Finding]:
    """One content rule against the renders of one template (and its source, if the rule says so)."""
    findings = list(_missing(rule, file, renders))
    for render in renders:
        text = render.text
        for sentence in rule.allow.get(file.locale, ()):
            text = text.replace(sentence.format_map(render.context), "")
        for found in _matches(rule, text):
            findings.append(Finding(file.name, _line_of(source, found), rule.id, f"{found!r} in the rendered text"))
        for name in rule.forbid_values:
            value = str(render.context[name])
            if value and value in text:
                where = _line_of(source, value) or _line_of(source, name)
                findings.append(Finding(file.name, where, rule.id, f"names the {name} {value!r}"))
    if rule.check_source:
        for number, source_line in enumerate(source.splitlines(), start=1):
            found_here = _matches(rule, source_line)
            findings += [Finding(file.name, number, rule.id, f"{found!r} in the template") for found in found_here]
    return findings


def _missing(rule: ContentRule, file: TemplateFile, renders: list[Render]) -> Iterator[Finding]:
    for statement in rule.must_state:
        phrasings = statement.phrasings(file.locale)
        if not phrasings:
            yield Finding(
                file.name, None, rule.id, f"rules.yaml gives no {file.locale} phrasing for {statement.what!r}"
            )
            continue
        missing_in = []
        for render in renders:
            try:
                expected = [phrasing.format_map(render.context) for phrasing in phrasings]
            except (KeyError, AttributeError) as exc:
                yield Finding(file.name, None, rule.id, f"rules.yaml: {statement.what!r} names unknown variable {exc}")
                break
            if not any(text in render.text for text in expected):
                missing_in.append(render.variant)
        if missing_in:
            yield Finding(
                file.name, None, rule.id, f"does not state {statement.what} (for a {' or a '.join(missing_in)})"
            )


def _matches(rule: ContentRule, text: str) -> Iterator[str]:
    for pattern in rule.forbid:
        for match in _compiled(pattern).finditer(text):
            yield match.group(0)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _line_of(source: str, text: str) -> int | None:
    """The first line of the template that contains `text`, when it comes from the template's own words."""
    needle = text.lower()
    return next((n for n, line in enumerate(source.splitlines(), start=1) if needle in line.lower()), None)


def same_in_every_locale(files: list[TemplateFile]) -> Iterator[Finding]:
    """Every (template, channel) ships in every language, so no customer falls back to a stranger's one."""
    locales = sorted({file.locale for file in files})
    kinds = {(file.template, file.channel) for file in files}
    present = {(file.locale, file.template, file.channel) for file in files}
    for template, channel in sorted(kinds):
        have = [locale for locale in locales if (locale, template, channel) in present]
        for locale in locales:
            if locale not in have:
                missing = TemplateRenderer.name(template, channel, locale)
                yield Finding(missing, None, SAME_IN_EVERY_LOCALE, f"missing (shipped in {', '.join(have)})")
