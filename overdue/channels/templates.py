"""Render message templates from configs/templates/{locale}/{template}.{channel}.j2 with Jinja2.

An email template sets its subject with `{% set subject = "..." %}`. Undefined variables are errors,
so a typo never reaches a customer as an empty string.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2


@dataclass(frozen=True)
class Rendered:
    subject: str | None
    body: str


class TemplateRenderer:
    def __init__(self, templates_dir: Path) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates_dir),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,  # templates do not change under a running process; no stat() per message
        )

    @staticmethod
    def name(template: str, channel: str, locale: str) -> str:
        return f"{locale}/{template}.{channel}.j2"

    def render(self, template: str, channel: str, locale: str, context: dict[str, Any]) -> Rendered:
        tmpl = self.env.get_template(self.name(template, channel, locale))
        module = tmpl.make_module(context)
        subject = getattr(module, "subject", None)
        return Rendered(subject=str(subject) if subject is not None else None, body=str(module).strip())

    def available(self) -> list[str]:
        return sorted(self.env.list_templates(extensions=["j2"]))

    def shipped(self) -> list[TemplateFile]:
        """Every template file, as (locale, template, channel)."""
        return [TemplateFile.parse(name) for name in self.available()]

    def source(self, name: str) -> str:
        source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        return source


@dataclass(frozen=True, order=True)
class TemplateFile:
    locale: str
    template: str
    channel: str

    @classmethod
    def parse(cls, name: str) -> TemplateFile:
        """`zh-CN/offer.sms.j2` -> TemplateFile("zh-CN", "offer", "sms")."""
        locale, _, file_name = name.partition("/")
        template, channel, _ = file_name.split(".")
        return cls(locale, template, channel)

    @property
    def name(self) -> str:
        return TemplateRenderer.name(self.template, self.channel, self.locale)
