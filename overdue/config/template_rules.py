"""The content rules for message templates (configs/templates/rules.yaml), as pydantic models.

A rule selects templates by name, channel and locale, then says what their text must state (each item
one of several phrasings, per locale if needed) and what it must never contain (regular expressions,
or the values of context variables). `overdue templates lint` and the test suite apply them.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from overdue.config.loader import load_model
from overdue.config.models import Channel, Strict

ANY_LOCALE = "*"
RULES_FILE = "rules.yaml"


class Selector(Strict):
    """Which templates a rule covers; an empty list means all."""

    templates: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    locales: tuple[str, ...] = ()
    excluding: tuple[str, ...] = Field(default=(), description="Templates the rule does not cover")

    def covers(self, template: str, channel: str, locale: str) -> bool:
        return template not in self.excluding and all(
            not allowed or value in allowed
            for allowed, value in ((self.templates, template), (self.channels, channel), (self.locales, locale))
        )


class Statement(Strict):
    """Something the text must state: any one of the phrasings for the locale (or for every locale, `*`).
    `{name}` and `{name.attribute}` stand for the values of context variables."""

    what: str = Field(min_length=1)
    any_of: dict[str, tuple[str, ...]]

    @field_validator("any_of", mode="before")
    @classmethod
    def _everywhere(cls, value: object) -> object:
        return {ANY_LOCALE: value} if isinstance(value, list | tuple) else value

    def phrasings(self, locale: str) -> tuple[str, ...]:
        return self.any_of.get(locale, ()) + self.any_of.get(ANY_LOCALE, ())


class ContentRule(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str = Field(min_length=1)
    source: str = Field(min_length=1)
    applies_to: Selector = Selector()
    only_time_barred: bool = Field(default=False, description="Check only the render for a time-barred debt")
    check_source: bool = Field(default=False, description="Also search the template file, so untaken branches count")
    must_state: tuple[Statement, ...] = ()
    forbid: tuple[str, ...] = Field(default=(), description="Regular expressions, matched case-insensitively")
    forbid_values: tuple[str, ...] = Field(default=(), description="Context variables whose value must not appear")
    allow: dict[str, tuple[str, ...]] = Field(
        default={}, description="Per locale: sanctioned sentences removed before `forbid` is applied"
    )

    @field_validator("forbid")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns


class TemplateRules(Strict):
    rules: tuple[ContentRule, ...] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: tuple[ContentRule, ...]) -> tuple[ContentRule, ...]:
        ids = [rule.id for rule in rules]
        duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if duplicates:
            raise ValueError(f"rule ids must be unique: {', '.join(duplicates)}")
        return rules


def load_template_rules(templates_dir: Path) -> TemplateRules:
    return load_model(templates_dir / RULES_FILE, TemplateRules)
