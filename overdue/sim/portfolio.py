"""Synthetic portfolios: US and CN customers, en-US and zh-CN, several time zones. Same seed, same rows.

ID, card and bank account numbers are fake on sight (a region code no place has, a test card range, a bank
account of leading zeros) and drawn from their own random stream, so adding them changed no other value.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from overdue.config.models import Experiment
from overdue.domain.arms import assign_arm
from overdue.domain.check_digits import cn_id_complete, luhn_complete
from overdue.domain.masking import Sensitive
from overdue.services.personal_data import PersonalField, sealed_columns
from overdue.store.bulk import insert_returning_ids, insert_rows
from overdue.store.db import refresh_statistics
from overdue.store.sealed import Vault
from overdue.store.tables import Account, ContactPoint, Customer

US_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Phoenix")
CN_ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Asia/Urumqi")
US_FIRST = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "Michael",
    "Linda",
    "David",
    "Maria",
    "Daniel",
    "Aisha",
    "Wei",
    "Carlos",
)
US_LAST = ("Smith", "Johnson", "Garcia", "Brown", "Davis", "Miller", "Lopez", "Wilson", "Nguyen", "Chen", "Okafor")
CN_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙")
CN_GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明")
US_AREA = ("212", "312", "415", "617", "713", "206", "305", "602")
CN_MOBILE = ("138", "139", "150", "186", "187", "135", "158")
CHUNK = 1000
SEGMENTS = ("steady", "forgetful", "strained", "distressed")
SEGMENT_WEIGHTS = (0.3, 0.3, 0.25, 0.15)


@dataclass(frozen=True)
class PortfolioSpec:
    accounts: int
    seed: int
    start: date
    champion: str = "default"
    experiment: Experiment = field(default_factory=Experiment)  # no challengers: every account is the champion's


@lru_cache(maxsize=1 << 20)  # asked for every account every simulated day: a seeded Random costs ~15-30 us
def segment_of(external_ref: str, seed: int) -> str:
    """A customer's behaviour segment, derived (not stored) so the system under test never sees it."""
    return random.Random(f"{seed}:{external_ref}").choices(SEGMENTS, SEGMENT_WEIGHTS)[0]


def generate_portfolio(
    session: Session, spec: PortfolioSpec, vault: Vault, on_chunk: Callable[[int], None] | None = None
) -> int:
    """Generated and written CHUNK accounts at a time, so a million accounts need no more memory than a
    thousand; `on_chunk(n)` reports progress."""
    rng = random.Random(spec.seed)
    numbers = random.Random(f"{spec.seed}:numbers")
    now = datetime.combine(spec.start, datetime.min.time(), tzinfo=UTC)
    for first in range(1, spec.accounts + 1, CHUNK):
        customers: list[dict[str, Any]] = []
        accounts: list[dict[str, Any]] = []
        contacts: list[list[dict[str, Any]]] = []
        for n in range(first, min(first + CHUNK, spec.accounts + 1)):
            customer, account, points = _one(rng, n, spec.start, now)
            account["strategy_arm"] = assign_arm(account["external_ref"], spec.champion, spec.experiment)
            _add_numbers(vault, numbers, customer, account)
            customers.append(customer)
            accounts.append(account)
            contacts.append(points)
        ids = insert_returning_ids(session, Customer, customers)
        rows: list[dict[str, Any]] = []
        for customer_id, account, points in zip(ids, accounts, contacts, strict=True):
            account["customer_id"] = customer_id
            rows.extend({**point, "customer_id": customer_id} for point in points)
        insert_rows(session, ContactPoint, rows)
        insert_rows(session, Account, accounts)
        if on_chunk is not None:
            on_chunk(len(accounts))
    refresh_statistics(session)
    return spec.accounts


def _one(
    rng: random.Random, n: int, start: date, now: datetime
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    us = rng.random() < 0.55
    if us:
        jurisdiction, currency, zone = "US", "USD", rng.choice(US_ZONES)
        locale = "zh-CN" if rng.random() < 0.1 else "en-US"
        name = f"{rng.choice(US_FIRST)} {rng.choice(US_LAST)}"
        phone = f"+1{rng.choice(US_AREA)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        principal = rng.randint(200_00, 8_000_00)
        address = f"{rng.randint(1, 9999)} Main St, Springfield, {zone.split('/')[1].replace('_', ' ')}"
    else:
        jurisdiction, currency, zone, locale = "CN", "CNY", rng.choice(CN_ZONES), "zh-CN"
        name = rng.choice(CN_SURNAMES) + "".join(rng.choice(CN_GIVEN) for _ in range(rng.randint(1, 2)))
        phone = f"+86{rng.choice(CN_MOBILE)}{rng.randint(0, 99_999_999):08d}"
        principal = rng.randint(1_500_00, 50_000_00)
        address = f"朝阳区建国路{rng.randint(1, 300)}号, 北京市"
    ref = f"{jurisdiction}{n:08d}"
    due = start + timedelta(days=rng.randint(-45, 20))
    customer: dict[str, Any] = {
        "external_ref": f"C-{ref}",
        "full_name": name,
        "time_zone": zone,
        "locale": locale,
        "jurisdiction": jurisdiction,
        "vulnerability": ["elderly"] if rng.random() < 0.03 else [],
        "created_at": now,
    }
    account: dict[str, Any] = {
        "external_ref": f"A-{ref}",
        "product": rng.choice(("credit_card", "credit_card", "personal_loan")),
        "currency": currency,
        "principal_minor": principal,
        "interest_minor": principal * rng.randint(2, 10) // 100,
        "fees_minor": rng.choice((0, 0, 2500, 3500)),
        "due_date": due,
        "dpd": (start - due).days,
        "stage": "current",
        "broken_plans": 0,
        "version": 0,
    }
    account["placed_balance_minor"] = account["principal_minor"] + account["interest_minor"] + account["fees_minor"]
    consent = rng.random() < 0.9
    sms_opted_out = now if rng.random() < 0.05 else None
    email = f"{ref.lower()}@example.com"
    contacts = [
        {"channel": "sms", "address": phone, "consent": consent, "opted_out_at": sms_opted_out},
        {"channel": "voice", "address": phone, "consent": consent, "opted_out_at": None},
        {"channel": "email", "address": email, "consent": True, "opted_out_at": None},
        {"channel": "letter", "address": f"{name}, {address}", "consent": True, "opted_out_at": None},
    ]
    return customer, account, contacts


def _add_numbers(vault: Vault, rng: random.Random, customer: dict[str, Any], account: dict[str, Any]) -> None:
    """Sealed as an import seals them: every customer has an ID number and every account a bank account to
    repay from; card accounts have the card number too."""
    if customer["jurisdiction"] == "CN":
        birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 18_250))
        national_id = cn_id_complete(f"99{rng.randint(0, 9999):04d}{birth:%Y%m%d}{rng.randint(0, 999):03d}")
    else:
        national_id = f"9{rng.randint(0, 99_999_999):08d}"  # no SSN starts with 9
    customer.update(sealed_columns(vault, PersonalField.NATIONAL_ID, Sensitive(national_id)))
    account.update(
        sealed_columns(vault, PersonalField.BANK_ACCOUNT, Sensitive(f"0000{rng.randint(0, 99_999_999):08d}"))
    )
    card = luhn_complete(f"411111{rng.randint(0, 999_999_999):09d}") if account["product"] == "credit_card" else None
    account.update(sealed_columns(vault, PersonalField.CARD_NUMBER, Sensitive(card) if card else None))
