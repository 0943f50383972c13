"""Configuration, read-only: the strategies in force (champion and challengers), each jurisdiction's contact
policy, the offer bounds, and any template rendered as a customer would receive it (with sample values).

Everything comes from `configs/` as loaded and validated at start; changing it is a reviewed change to those
files (`overdue config check`), never an edit on this page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import streamlit as st

from dashboard.i18n import fmt_money, fmt_percent, t, term
from dashboard.ui import table
from overdue.channels.context import sample_context
from overdue.channels.lint import scoped
from overdue.channels.templates import TemplateRenderer
from overdue.config import Configuration, load_configuration
from overdue.config.models import AllocationRule, Condition
from overdue.domain.sms import sms_size
from overdue.runtime import build_sender
from overdue.services.users import LOCALES
from overdue.settings import get_settings


@st.cache_resource(show_spinner=False)
def _configuration(config_dir: Path, strategy: str) -> Configuration:
    """Parsed once per process: the files change only with a deployment."""
    return load_configuration(config_dir, strategy)


def render() -> None:
    settings = get_settings()
    config = _configuration(settings.config_dir, settings.strategy)
    st.title(t("configuration.title"))
    st.caption(t("configuration.read_only"))
    strategy_tab, policy_tab, offers_tab, templates_tab = st.tabs(
        [t(f"configuration.tab_{name}") for name in ("strategy", "policies", "offers", "templates")]
    )
    with strategy_tab:
        _strategies(config)
    with policy_tab:
        _policies(config)
    with offers_tab:
        _offers(config)
    with templates_tab:
        _templates(config)


def _condition(condition: Condition) -> str:
    parts = []
    if condition.dpd_min is not None:
        parts.append(f"{t('configuration.cond_dpd')} ≥ {condition.dpd_min}")
    if condition.dpd_max is not None:
        parts.append(f"{t('configuration.cond_dpd')} ≤ {condition.dpd_max}")
    if condition.balance_min is not None:
        amounts = " / ".join(f"{fmt_money(v, c)}" for c, v in condition.balance_min.minor.items())
        parts.append(f"{t('configuration.cond_balance')} ≥ {amounts}")
    if condition.broken_plans_min is not None:
        parts.append(f"{t('configuration.cond_broken_plans')} ≥ {condition.broken_plans_min}")
    if condition.stage_in is not None:
        stages = ", ".join(term(f"stages.{stage}", stage) for stage in condition.stage_in)
        parts.append(f"{t('configuration.cond_stage')} ∈ {stages}")
    return " & ".join(parts) or t("configuration.always")


def _strategies(config: Configuration) -> None:
    champion = config.strategy.name
    challengers = {c.strategy: c.share for c in config.experiment.challengers}
    arms = [
        {"strategy": champion, "role": t("configuration.champion"), "share": fmt_percent(1 - sum(challengers.values()))}
    ]
    arms += [
        {"strategy": name, "role": t("configuration.challenger"), "share": fmt_percent(share)}
        for name, share in challengers.items()
    ]
    table(arms, ("strategy", "role", "share"), "configuration")
    name = st.selectbox(
        t("configuration.strategy"),
        sorted(config.strategies),
        index=sorted(config.strategies).index(champion),
        key="configuration_strategy",
    )
    strategy = config.strategies[name]
    if strategy.description:
        st.markdown(strategy.description)
    st.subheader(t("configuration.stages"))
    table(
        [
            {"order": n, "stage": term(f"stages.{rule.name}", rule.name), "when": _condition(rule.when)}
            for n, rule in enumerate(strategy.stages, 1)
        ],
        ("order", "stage", "when"),
        "configuration",
    )
    st.subheader(t("configuration.cadence"))
    table(
        [
            {
                "stage": term(f"stages.{stage}", stage),
                "step": step.id,
                "day": step.day,
                "channel": term(f"channels.{step.channel}", step.channel),
                "template": step.template,
                "local_time": step.local_time.strftime("%H:%M"),
            }
            for stage, steps in strategy.cadence.items()
            for step in steps
        ],
        ("stage", "step", "day", "channel", "template", "local_time"),
        "configuration",
    )
    st.subheader(t("configuration.escalation"))
    escalation, approval = strategy.escalation, config.tasks.kind("legal_escalation")  # who decides: tasks.yaml
    role = term(f"roles.{approval.role}", approval.role)
    st.markdown(t("configuration.escalation_by", role=role, hours=approval.sla_hours))
    table(
        [{"rule": rule.name, "when": _condition(rule.when)} for rule in escalation.rules],
        ("rule", "when"),
        "configuration",
    )


def _policies(config: Configuration) -> None:
    code = st.selectbox(t("configuration.jurisdiction"), sorted(config.policies), key="configuration_policy")
    policy = config.policies[code]
    st.markdown(
        t(
            "configuration.policy",
            name=policy.name,
            holidays=policy.holiday_country,
            allocation="; ".join(_allocation(rule) for rule in policy.allocation),
            years=policy.time_bar.years,
        )
    )
    table(
        [
            {"id": rule.id, "kind": rule.kind, "description": rule.description, "source": rule.source}
            for rule in policy.rules
        ],
        ("id", "kind", "description", "source"),
        "configuration",
    )


def _allocation(rule: AllocationRule) -> str:
    """`cards, 1-90 DPD: fees → interest → principal`: when the rule applies, then the order."""
    scope = [", ".join(rule.products)] if rule.products else []
    if rule.dpd_min is not None or rule.dpd_max is not None:
        scope.append(
            f"{'' if rule.dpd_min is None else rule.dpd_min}-{'' if rule.dpd_max is None else rule.dpd_max} DPD"
        )
    order = " → ".join(rule.order)
    return f"{' '.join(scope)}: {order}" if scope else order


def _offers(config: Configuration) -> None:
    """The offer policy's defaults, then each override with the jurisdiction and product it applies to."""
    bounds = config.offers
    rows = [{"scope": "*", "bound": key, "value": _shown(value)} for key, value in bounds.defaults.model_dump().items()]
    for override in bounds.overrides:
        scope = "/".join(part or "*" for part in (override.jurisdiction, override.product))
        rows += [{"scope": scope, "bound": key, "value": _shown(value)} for key, value in override.set.items()]
    table(rows, ("scope", "bound", "value"), "configuration")


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_shown(item)}" for key, item in value.items())
    return str(value)


def _templates(config: Configuration) -> None:
    renderer = TemplateRenderer(config.templates_dir)
    names = sorted({path.name.removesuffix(".j2") for path in (config.templates_dir / LOCALES[0]).glob("*.j2")})
    columns = st.columns(2)
    chosen = columns[0].selectbox(t("configuration.template"), names, key="configuration_template")
    locale = columns[1].selectbox(t("configuration.template_locale"), LOCALES, key="configuration_template_locale")
    template, _, channel = chosen.rpartition(".")
    sender = build_sender(get_settings())
    try:
        out = renderer.render(template, channel, locale, scoped(sample_context(sender, locale), template))
    except (jinja2.TemplateNotFound, jinja2.UndefinedError) as exc:
        st.error(t("configuration.template_error", name=chosen, problem=str(exc)))
        return
    st.caption(t("configuration.sample_values"))
    if out.subject:
        st.markdown(t("configuration.subject", subject=out.subject))
    st.code(out.body, language=None, wrap_lines=True)
    if channel == "sms":
        size = sms_size(out.body)
        st.caption(
            t(
                "configuration.sms_size",
                segments=size.segments,
                encoding=size.encoding,
                allowed=config.strategy.sms_max_segments,
            )
        )
