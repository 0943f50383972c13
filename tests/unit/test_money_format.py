"""The fast money formatter says exactly what Babel says, for any amount, currency and locale."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from overdue.domain.money import _babel_money, format_money

CURRENCIES = st.sampled_from(["USD", "CNY", "GBP", "EUR", "JPY", "KWD", "INR"])
LOCALES = st.sampled_from(["en-US", "zh-CN", "en-GB", "de-DE", "fr-FR", "hi-IN", "ar-EG"])


@settings(max_examples=600, deadline=None)
@given(minor=st.integers(min_value=-(10**12), max_value=10**14), currency=CURRENCIES, locale=LOCALES)
def test_format_money_matches_babel(minor: int, currency: str, locale: str) -> None:
    assert format_money(minor, currency, locale) == _babel_money(minor, currency, locale)
