"""Passwords, session tokens and the dashboard's message catalogue: the pure parts of sign-in and i18n."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard import i18n
from overdue.domain import session_tokens
from overdue.domain.passwords import WeakPassword, check_strength, hash_password, verify_password
from overdue.domain.tasks import REFUSALS
from overdue.services.refusal_texts import TEXTS
from overdue.services.users import LOCALES

KEY = b"k" * 32
DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_a_password_verifies_only_itself_and_each_hash_is_salted() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second
    assert first.startswith("scrypt$32768$8$1$")
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("correct horse battery", "scrypt$broken")
    assert not verify_password("correct horse battery", "bcrypt$1$2$3$4$5")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(WeakPassword):
        check_strength("short")
    check_strength("long enough")


def test_a_session_token_opens_only_for_its_purpose_key_and_age() -> None:
    token = session_tokens.sign(KEY, session_tokens.HANDOFF, "abc", 1000)
    assert session_tokens.unsign(KEY, session_tokens.HANDOFF, token, 1060, 60) == "abc"
    assert session_tokens.unsign(KEY, session_tokens.HANDOFF, token, 1061, 60) is None  # expired
    assert session_tokens.unsign(KEY, session_tokens.HANDOFF, token, 999, 60) is None  # from the future
    assert session_tokens.unsign(KEY, session_tokens.SESSION, token, 1000, 60) is None  # another purpose
    assert session_tokens.unsign(b"x" * 32, session_tokens.HANDOFF, token, 1000, 60) is None  # another key
    forged = token.replace("abc", "abd", 1)
    assert session_tokens.unsign(KEY, session_tokens.HANDOFF, forged, 1000, 60) is None
    assert session_tokens.unsign(KEY, session_tokens.HANDOFF, "garbage", 1000, 60) is None


def test_every_message_file_has_both_languages_with_the_same_texts() -> None:
    files = sorted(DASHBOARD.glob("messages/*.yaml"))
    assert files
    for path in files:
        texts = i18n.catalog(path.stem)
        for locale in LOCALES:
            assert all(text.strip() for text in texts[locale].values()), (path.name, locale)
            placeholders = {name: set(re.findall(r"{(\w+)}", text)) for name, text in texts[locale].items()}
            assert placeholders == {
                name: set(re.findall(r"{(\w+)}", text)) for name, text in texts[LOCALES[0]].items()
            }, path.name


def test_every_key_the_dashboard_asks_for_exists() -> None:
    """Literal keys in the code (`t("ns.name"`): a typo fails here before any page runs."""
    keys = {
        key
        for source in DASHBOARD.rglob("*.py")
        for key in re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_]+)["']""", source.read_text(encoding="utf-8"))
    }
    assert keys
    for key in sorted(keys):
        for locale in LOCALES:
            i18n.text(key, locale)


def test_a_missing_key_or_language_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(i18n.MissingMessage, match=r"no message 'signin\.nope'"):
        i18n.text("signin.nope", "en-US")
    with pytest.raises(i18n.MissingMessage, match="no message file"):
        i18n.text("nothere.key", "en-US")
    (tmp_path / "half.yaml").write_text("en-US:\n  a: A\n  b: B\nzh-CN:\n  a: 甲\n", encoding="utf-8")
    monkeypatch.setattr(i18n, "MESSAGES", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(i18n.MissingMessage, match=r"half\.yaml: b not in both en-US and zh-CN"):
            i18n.catalog("half")
    finally:
        i18n.catalog.cache_clear()


def test_every_refusal_code_is_translated_with_the_same_values() -> None:
    """A service's refusal reaches a screen as its code: each code has a text in both languages, naming the
    same values as the English the command line prints."""
    coded = {f"inbox.refused_{code}": english for code, english in REFUSALS.items()}
    coded |= {f"refusals.{code}": english for code, english in TEXTS.items()}
    for key, english in coded.items():
        for locale in LOCALES:
            translated = i18n.catalog(key.partition(".")[0])[locale][key.partition(".")[2]]
            assert set(re.findall(r"{(\w+)}", translated)) == set(re.findall(r"{(\w+)}", english)), (key, locale)
    assert set(i18n.catalog("refusals")["en-US"]) == set(TEXTS), "no text for a code no service raises"
