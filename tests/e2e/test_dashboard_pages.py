"""Every page but the inbox (test_inbox_apptest.py), run in-process by AppTest against a real (SQLite) database:
what each role sees, each page's actions, the refusal a role gets on a page it may not see, and both languages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col, select
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from overdue.domain.masking import Sensitive
from overdue.services.audit import record
from overdue.services.personal_data import PersonalField, sealed_columns
from overdue.services.rollups import roll_up
from overdue.services.signin_throttle import unlock
from overdue.services.users import disable_user
from overdue.settings import get_settings
from overdue.store.db import session_scope
from overdue.store.tables import (
    Account,
    AuditEvent,
    CycleShard,
    Installment,
    LegalCase,
    Payment,
    PaymentPlan,
    WebhookError,
)
from tests.e2e.conftest import APP, Seeded, sign_in_app
from tests.support import add_message, make_runtime

CARD = "4111111111111111"
SENT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DAY1, DAY2 = date(2026, 3, 10), date(2026, 3, 11)


def open_page(user: str, page: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=30).run()
    sign_in_app(app, user)
    app.switch_page(f"screens/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app: AppTest) -> str:
    parts: list[str] = []
    for elements in (
        app.title,
        app.subheader,
        app.markdown,
        app.caption,
        app.info,
        app.success,
        app.warning,
        app.error,
    ):
        parts += [str(e.value) for e in elements]
    parts += [f"{m.label} {m.value}" for m in app.metric]
    parts += [d.value.to_string() for d in app.dataframe]
    return "\n".join(parts)


def history(seeded: Seeded) -> int:
    """The first escalation's account gets a message, a payment, a plan, a legal case and timeline events."""
    account_id, task_id = seeded.account_ids[0], seeded.task_ids[0]
    vault = make_runtime(seeded.url).vault
    with session_scope(seeded.url) as session:
        account = session.get(Account, account_id)
        assert account is not None
        session.execute(
            sa.update(Account)
            .where(col(Account.id) == account_id)
            .values(sealed_columns(vault, PersonalField.CARD_NUMBER, Sensitive(CARD)))
        )
        add_message(
            session,
            account,
            SENT,
            status="sent",
            sent_at=SENT,
            channel="email",
            subject="About your account",
            body="Dear Test Person, your balance of $1,075.00 is past due.",
        )
        session.add(
            Payment(
                payment_ref="p-1",
                account_id=account_id,
                amount_minor=12_345,
                currency="USD",
                received_on=date(2026, 3, 5),
                source="import",
                to_principal_minor=12_345,
                created_at=SENT,
            )
        )
        plan = PaymentPlan(
            account_id=account_id, status="broken", total_minor=90_000, grace_days=5, created_on=date(2026, 1, 10)
        )
        session.add(plan)
        session.flush()
        session.add(Installment(plan_id=plan.id, seq=1, due_date=date(2026, 2, 1), amount_minor=45_000))  # type: ignore[arg-type]
        session.add(
            LegalCase(
                account_id=account_id,
                task_id=task_id,
                balance_minor=107_500,
                opened_on=date(2026, 3, 6),
                approved_by="legal.lee",
            )
        )
        record(session, "stage.changed", "system:cycle", SENT, account_id, **{"from": "reminder", "to": "negotiation"})
    return account_id


def test_account_360_shows_the_whole_account_masked(dashboard_db: Seeded) -> None:
    account_id = history(dashboard_db)
    app = open_page("agent.ann", "account")
    assert "Search for an account" in texts(app)

    app.text_input(key="account_lookup").input(str(account_id)).run()

    text = texts(app)
    assert "Test Person · ****0000" in text
    assert "Balance $1,075.00" in text
    assert "Stage negotiation" in text
    assert "Paid to date $123.45" in text
    assert "`****1111`" in text
    assert CARD not in text
    assert "5550123" not in text
    assert "stage.changed" in text
    assert "About your account · Dear Test Person, your balance of $1,075.00 is past due." in text
    assert "**Plan" in text
    assert "broken" in text
    assert "$450.00" in text
    assert "legal.lee" in text


def test_account_found_by_reference_or_not_at_all(dashboard_db: Seeded) -> None:
    app = open_page("agent.ann", "account")
    app.text_input(key="account_lookup").input("A-E2E0001").run()
    assert "****0001" in texts(app)
    app.text_input(key="account_lookup").input("A-NOPE").run()
    assert "No account matches “A-NOPE”." in texts(app)


def test_reveal_needs_a_reason_and_is_audited(dashboard_db: Seeded) -> None:
    account_id = history(dashboard_db)
    app = open_page("agent.ann", "account")
    app.text_input(key="account_lookup").input(str(account_id)).run()

    app.selectbox(key="account_reveal_field").set_value(PersonalField.CARD_NUMBER)
    app.text_input(key="account_reveal_reason").input("ok").run()
    app.button(key="account_reveal").click().run()
    assert [e.value for e in app.error] == [
        "A reason of at least 5 characters is required to reveal personal data. Nothing was revealed."
    ]
    assert not app.code

    app.text_input(key="account_reveal_reason").input("Customer disputes a card charge")
    app.button(key="account_reveal").click().run()
    assert [c.value for c in app.code] == [CARD]
    with session_scope(dashboard_db.url) as session:
        [event] = session.exec(select(AuditEvent).where(col(AuditEvent.kind) == "pii.revealed")).all()
    assert (event.actor, event.account_id, event.data["reason"]) == (
        "agent.ann",
        account_id,
        "Customer disputes a card charge",
    )
    app.run()
    assert not app.code


def test_a_manager_sees_the_account_but_may_not_reveal(dashboard_db: Seeded) -> None:
    account_id = history(dashboard_db)
    app = open_page("manager.mia", "account")
    app.text_input(key="account_lookup").input(str(account_id)).run()
    assert "`****1111`" in texts(app)
    assert not [b for b in app.button if b.key == "account_reveal"]


def test_account_360_in_chinese(dashboard_db: Seeded) -> None:
    account_id = history(dashboard_db)
    app = open_page("agent.ann", "account")
    app.sidebar.selectbox(key="language").set_value("zh-CN").run()
    app.text_input(key="account_lookup").input(str(account_id)).run()
    text = texts(app)
    assert "账户全景" in text
    assert "余额 US$1,075.00" in text
    assert "阶段 协商" in text
    assert "2026年3月5日" in text


# --- manager metrics ------------------------------------------------------------------------------


def rolled_up(seeded: Seeded) -> None:
    """Two rolled-up days: the first account pays off on the second, so it rolls from 91-120 to closed."""
    with session_scope(seeded.url) as session:
        assert roll_up(session, DAY1)
    with session_scope(seeded.url) as session:
        session.execute(
            sa.update(Account)
            .where(col(Account.id) == seeded.account_ids[0])
            .values(stage="closed", principal_minor=0, interest_minor=0, fees_minor=0)
        )
        session.add(
            Payment(
                payment_ref="p-2",
                account_id=seeded.account_ids[0],
                amount_minor=107_500,
                currency="USD",
                received_on=DAY2,
                source="import",
                created_at=SENT,
            )
        )
    with session_scope(seeded.url) as session:
        assert roll_up(session, DAY2)


def test_manager_metrics_from_the_rollups(dashboard_db: Seeded) -> None:
    rolled_up(dashboard_db)
    app = open_page("manager.mia", "metrics")
    text = texts(app)
    assert "Manager metrics" in text
    assert "From Mar 10, 2026 to Mar 11, 2026 (2 days rolled up)" in text
    funnel = app.dataframe[0].value
    assert dict(zip(funnel["Stage"], funnel["Accounts"], strict=True)) == {"negotiation": "2", "closed": "1"}
    cohorts = app.dataframe[1].value
    # no day before the range was rolled up, so there is no opening balance to liquidate
    assert list(cohorts.iloc[0]) == ["2025-12", "USD", "3", "$3,225.00", "$1,075.00", "33.3%", "–"]
    assert len(app.get("vega_lite_chart")) == 2  # the funnel and the roll-rate heatmap
    rates = app.dataframe[2].value
    assert dict(zip(rates["Measure"], rates["Value"], strict=True))["Cures (past due to current or closed)"] == "1"
    [arms] = [frame.value for frame in app.dataframe if "Contacts per account" in frame.value.columns]
    assert list(arms["Arm"]) == ["default"], "one row per arm: its figures are not split by currency"
    assert list(arms.iloc[0])[:3] == ["default", "3", "33.3%"]
    [recovery] = [frame.value for frame in app.dataframe if list(frame.value.columns[:2]) == ["Arm", "Currency"]]
    assert list(recovery.iloc[0]) == ["default", "USD", "$3,225.00", "$1,075.00", "33.3%"]
    [download] = app.get("download_button")
    assert download.proto.label == "Download the figures (CSV)"


def test_metrics_in_chinese_name_task_kinds_and_buckets(dashboard_db: Seeded) -> None:
    rolled_up(dashboard_db)
    app = open_page("manager.mia", "metrics")
    app.sidebar.selectbox(key="language").set_value("zh-CN").run()
    [approvals] = [frame.value for frame in app.dataframe if "任务类型" in frame.value.columns]
    assert list(approvals["任务类型"]) == ["法律升级审批"]
    heatmap = convert_arrow_bytes_to_pandas_df(app.get("vega_lite_chart")[1].proto.data.data)
    assert ("91-120", "已结清") in set(zip(heatmap["from"], heatmap["to"], strict=True))


def test_metrics_range_and_arms_filter(dashboard_db: Seeded) -> None:
    rolled_up(dashboard_db)
    app = open_page("manager.mia", "metrics")
    app.date_input(key="metrics_range").set_value((DAY2, DAY2)).run()
    assert "(1 days rolled up)" in texts(app)
    assert list(app.dataframe[1].value.iloc[0])[-1] == "33.3%"  # paid on day 2 / outstanding at the end of day 1
    app.multiselect(key="metrics_arms").set_value([]).run()
    assert "Nothing to show." in texts(app)  # no arm, no figures


def test_metrics_before_any_rollup(dashboard_db: Seeded) -> None:
    app = open_page("supervisor.sam", "metrics")
    assert "No figures yet" in texts(app)


@pytest.mark.parametrize(
    ("user", "page", "refused"),
    [
        ("agent.ann", "metrics", "Your roles may not open Manager metrics. It is for: admin, manager, supervisor."),
        ("manager.mia", "inbox", "Your roles may not open Ops inbox. It is for: admin, agent, legal, supervisor."),
        ("engineer.eli", "inbox", "Your roles may not open Ops inbox."),
        ("engineer.eli", "account", "Your roles may not open Account 360."),
    ],
)
def test_a_role_opening_a_page_it_may_not_see_is_refused(
    dashboard_db: Seeded, user: str, page: str, refused: str
) -> None:
    app = open_page(user, page)
    [error] = app.error
    assert refused in error.value
    assert not app.dataframe
    assert not app.form


# --- engineering ----------------------------------------------------------------------------------


def operations_history(seeded: Seeded) -> None:
    """A failed send, a refused webhook and a business date with one shard still pending."""
    with session_scope(seeded.url) as session:
        account = session.get(Account, seeded.account_ids[1])
        assert account is not None
        add_message(session, account, SENT, status="failed", provider="twilio", error="21211 invalid number")
        session.add(WebhookError(received_at=SENT, path="/webhooks/twilio/status", status=403, detail="stale request"))
        session.add(CycleShard(as_of=DAY1, low=1, high=2, status="done", worker="host:1"))
        session.add(CycleShard(as_of=DAY1, low=3, high=4, status="pending"))


def test_engineering_without_a_prefect_server(dashboard_db: Seeded) -> None:
    from prefect.context import SettingsContext, _temporary_global_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    operations_history(dashboard_db)
    # Whatever server an earlier test started is gone for this page. The page runs in Streamlit's script thread,
    # which sees Prefect's process-global settings (where the session's test harness puts its server), so those
    # are swapped as the harness swaps them.
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        without_server = SettingsContext.get()
        assert without_server is not None
        with _temporary_global_settings_context(without_server):
            app = open_page("engineer.eli", "engineering")
    text = texts(app)
    assert "No Prefect server to ask: PREFECT_API_URL is not set." in text
    assert "Failed sends (1)" in text
    assert "21211 invalid number" in text
    assert "stale request" in text
    queues = app.dataframe[0].value
    assert dict(zip(queues["Queue"], queues["Waiting"], strict=True)) == {
        "cycle:shards": "1",
        "tasks:legal_escalation": "3",
    }
    assert dict(zip(queues["Queue"], queues["Due or past SLA"], strict=True))["tasks:legal_escalation"] == "1"
    cycles = app.dataframe[1].value
    assert list(cycles.iloc[0]) == ["Mar 10, 2026", 2, 1, 1, 1, "1-4"]


@pytest.mark.prefect
def test_engineering_links_recent_flow_runs_into_prefect(dashboard_db: Seeded, prefect_harness: None) -> None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("daily-cycle")
        deployment_id = client.create_deployment(flow_id=flow_id, name="daily")
        run = client.create_flow_run_from_deployment(deployment_id, name="cycle-2026-03-10")
    app = open_page("admin.ada", "engineering")
    runs = app.dataframe[0].value
    row = runs[runs["Run"] == "cycle-2026-03-10"].iloc[0]
    assert row["Deployment"] == "daily"
    assert row["State"] == "Scheduled"
    assert row["Prefect UI"].endswith(f"/runs/flow-run/{run.id}")


# --- configuration --------------------------------------------------------------------------------


def test_configuration_shows_strategy_policies_offers_and_template_previews(dashboard_db: Seeded) -> None:
    app = open_page("manager.mia", "configuration")
    text = texts(app)
    assert "Read-only" in text
    assert "negotiation" in text
    assert "days past due ≥ 31" in text
    assert "pre_due_sms" in text
    assert "Decided by **legal**" in text
    app.sidebar.selectbox(key="language").set_value("zh-CN").run()
    chinese = texts(app)
    assert "逾期天数 ≥ 91 & 余额 ≥ US$500.00 / ¥3,000.00 & 阶段 ∈ 协商" in chinese
    assert "由 **法务** 在" in chinese
    app.sidebar.selectbox(key="language").set_value("en-US").run()
    app.selectbox(key="configuration_policy").set_value("US").run()
    assert "us.contact_window" in texts(app)
    app.selectbox(key="configuration_template").set_value("reminder_early.sms").run()
    app.selectbox(key="configuration_template_locale").set_value("zh-CN").run()
    [preview] = app.code
    assert preview.value.startswith("【Northwind Demo Bank】")
    assert "暂未收到" in preview.value
    assert "{{" not in preview.value
    assert "SMS:" in texts(app)


# --- languages and sign-in ------------------------------------------------------------------------


def test_the_language_chosen_is_kept_with_the_user(dashboard_db: Seeded) -> None:
    app = open_page("legal.lee", "inbox")
    assert app.title[0].value == "Ops inbox"
    app.sidebar.selectbox(key="language").set_value("zh-CN").run()
    assert app.title[0].value == "工作台"
    assert [m.label for m in app.metric] == ["任务数", "已超时"]
    app.button(key=f"open-{dashboard_db.task_ids[0]}").click().run()
    text = texts(app)
    assert "逾期 **95** 天 · 余额 **US\\$1,075\\.00**" in text
    assert "阶段 **协商**" in text
    assert [b.label for b in app.button if b.key and b.key.startswith(("approve-", "reject-"))] == ["批准", "驳回"]

    app.sidebar.button(key="sign_out").click().run()
    assert app.title[0].value == "登录"  # the sign-in page keeps the language of the session
    again = open_page("legal.lee", "inbox")
    assert again.title[0].value == "工作台", "the choice is stored with the user"


def test_a_wrong_password_or_a_disabled_user_does_not_sign_in(dashboard_db: Seeded) -> None:
    app = AppTest.from_file(APP, default_timeout=30).run()
    sign_in_app(app, "legal.lee", "not the password")
    assert [e.value for e in app.error] == ["Wrong user name or password, or the account is disabled."]
    assert app.title[0].value == "Sign in"
    assert app.text_input(key="signin_password").value == "", "the password does not outlive the click"
    with session_scope(dashboard_db.url) as session:
        disable_user(session, "legal.lee", "admin.ada", datetime.now(UTC))
    sign_in_app(app, "legal.lee")
    assert app.title[0].value == "Sign in"


def test_failed_sign_ins_lock_the_name_out_until_an_admin_unlocks_it(
    dashboard_db: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERDUE_SIGNIN_MAX_FAILURES", "2")
    get_settings.cache_clear()
    app = AppTest.from_file(APP, default_timeout=30).run()
    sign_in_app(app, "legal.lee", "not the password")
    assert [e.value for e in app.error] == ["Wrong user name or password, or the account is disabled."]
    sign_in_app(app, "legal.lee", "still not it")
    locked = "Too many failed sign-ins for this name or from this computer. Try again in 15 min"
    assert app.error[0].value.startswith(locked)
    sign_in_app(app, "legal.lee")
    assert app.error[0].value.startswith(locked), "the right password waits for the lock to end"
    assert app.title[0].value == "Sign in"

    chinese = AppTest.from_file(APP, default_timeout=30).run()
    chinese.selectbox(key="language").set_value("zh-CN").run()
    sign_in_app(chinese, "legal.lee")
    assert chinese.error[0].value.startswith("该用户名或本机登录失败次数过多。请在 15 分钟后重试")

    with session_scope(dashboard_db.url) as session:
        assert unlock(session, "legal.lee", "admin.ada", datetime.now(UTC)) == 2
    sign_in_app(app, "legal.lee")
    get_settings.cache_clear()
    assert app.title[0].value == "Ops inbox"
    with session_scope(dashboard_db.url) as session:
        kinds = session.scalars(sa.select(col(AuditEvent.kind)).order_by(col(AuditEvent.id))).all()
    assert [k for k in kinds if k.startswith("user.")] == [
        "user.signin_failed",
        "user.signin_failed",
        "user.signin_locked",
        "user.unlocked",
        "user.signed_in",
    ]


def test_sign_in_then_sign_out(dashboard_db: Seeded) -> None:
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert app.title[0].value == "Sign in"
    sign_in_app(app, "admin.ada")
    assert app.title[0].value == "Ops inbox"
    assert app.sidebar.markdown[0].value == "Signed in as **admin.ada**"
    app.sidebar.button(key="sign_out").click().run()
    assert [s.value for s in app.success] == ["You are signed out."]
    app.run()
    assert app.title[0].value == "Sign in", "a rerun of the same browser session stays signed out"


def test_behind_a_single_sign_on_proxy_there_is_no_password_form(
    dashboard_db: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVERDUE_TRUSTED_USER_HEADER", "X-Forwarded-User")
    get_settings.cache_clear()
    app = AppTest.from_file(APP, default_timeout=30).run()
    get_settings.cache_clear()
    assert "single sign-on" in app.warning[0].value
    assert not app.text_input


def test_account_contact_history_pages_in_sql(dashboard_db: Seeded) -> None:
    account_id = dashboard_db.account_ids[0]
    with session_scope(dashboard_db.url) as session:
        account = session.get(Account, account_id)
        assert account is not None
        for n in range(23):
            at = SENT + timedelta(hours=n)
            add_message(session, account, at, status="sent", sent_at=at, body=f"Message number {n:02d}")
    app = open_page("agent.ann", "account")
    app.text_input(key="account_lookup").input(str(account_id)).run()
    assert "23 messages, newest first" in texts(app)
    assert "Message number 22" in texts(app)
    assert "Message number 02" not in texts(app)

    app.pagination(key="account_contacts_page").set_value(2).run()

    assert "Message number 02" in texts(app)
    assert "Message number 22" not in texts(app)


def test_the_csv_export_has_one_row_per_figure() -> None:
    from dashboard.views.metrics import Section, _csv

    sections: list[Section] = [
        ("funnel", [{"stage": "closed", "accounts": 7}], ("stage", "accounts"), {}),
        (
            "cohorts",
            [{"cohort": "2026-01", "currency": "USD", "recovery": 0.25}],
            ("cohort", "currency", "recovery"),
            {},
        ),
    ]
    assert _csv(sections).splitlines() == [
        "section,row,column,value",
        "funnel,closed,accounts,7",
        "cohorts,2026-01 / USD,recovery,0.25",
    ]
