"""Sealing personal data: round trips, rotation, where the keys come from, and the check digits an import uses."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from overdue.config import ConfigError
from overdue.domain.check_digits import cn_id_complete, iban_valid, luhn_complete, luhn_valid
from overdue.domain.masking import Sensitive
from overdue.settings import Settings
from overdue.store.sealed import SealError, Vault, _development_key, load_vault, new_key

CARD = "4111111111111111"
SQLITE = "sqlite:///overdue.db"
POSTGRES = "postgresql+psycopg://collector@db.internal/overdue"


def test_a_sealed_value_opens_to_itself_and_shows_nothing_of_it() -> None:
    vault = Vault([new_key()])
    token = vault.seal(CARD)
    assert vault.open(token) == CARD
    assert CARD not in token
    assert CARD[-4:] not in token
    assert vault.seal(CARD) != token, "a fresh IV every time: equal numbers cannot be spotted in the table"
    assert vault.open(vault.seal("王芳 11010519491231002X")) == "王芳 11010519491231002X"


def test_rotation_reseals_under_the_first_key_and_leaves_current_tokens_alone() -> None:
    old, new = new_key(), new_key()
    token = Vault([old]).seal(CARD)
    both = Vault([new, old])
    assert both.open(token) == CARD, "every key opens"

    rotated = both.rotate(token)
    assert rotated != token
    assert Vault([new]).open(rotated) == CARD, "after rotation the old key can go"
    assert both.rotate(rotated) == rotated, "rotating twice is rotating once"


def test_a_token_no_key_opens_is_an_error_that_names_the_setting_not_the_value() -> None:
    token = Vault([new_key()]).seal(CARD)
    with pytest.raises(SealError, match="OVERDUE_DATA_KEYS") as caught:
        Vault([new_key()]).open(token)
    assert CARD not in str(caught.value)
    with pytest.raises(SealError):
        Vault([new_key()]).rotate(token)
    with pytest.raises(SealError):
        Vault([new_key()]).open(token[:-2] + "AA")


def test_keys_come_from_the_environment_first_one_seals(tmp_path: Path) -> None:
    first, second = new_key(), new_key()
    vault = load_vault(Settings(data_keys=SecretStr(f" {first} , {second} "), data_dir=tmp_path), POSTGRES)
    assert Vault([first]).open(vault.seal(CARD)) == CARD
    assert vault.open(Vault([second]).seal(CARD)) == CARD
    assert repr(vault) == "Vault(2 key(s))"
    assert not (tmp_path / "dev-data.key").exists()


@pytest.mark.parametrize(
    ("keys", "message"), [("not-a-key", "key 1 of 1"), ("{good},short", "key 2 of 2"), ("", "empty")]
)
def test_a_bad_key_is_a_config_error_naming_the_setting_never_the_key(keys: str, message: str) -> None:
    text = keys.format(good=new_key())
    with pytest.raises(ConfigError, match="OVERDUE_DATA_KEYS") as caught:
        load_vault(Settings(data_keys=SecretStr(text)), SQLITE)
    assert message in str(caught.value)
    assert all(part not in str(caught.value) for part in text.split(",") if part)


def test_a_server_database_without_keys_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OVERDUE_DATA_KEYS is not set"):
        load_vault(Settings(data_keys=None, data_dir=tmp_path), POSTGRES)
    assert not (tmp_path / "dev-data.key").exists()


def test_sqlite_without_keys_makes_one_private_development_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_keys=None, data_dir=tmp_path / "var")
    with caplog.at_level(logging.WARNING, logger="overdue.store.sealed"):
        token = load_vault(settings, SQLITE).seal(CARD)
        assert load_vault(settings, SQLITE).open(token) == CARD
    key_file = tmp_path / "var" / "dev-data.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [r.getMessage() for r in caplog.records] == [
        f"Personal data is sealed with a new development key {key_file}; production must set OVERDUE_DATA_KEYS."
    ], "said once, when the key is made"
    _development_key.cache_clear()  # as a new process: it finds the key and says nothing
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="overdue.store.sealed"):
        assert load_vault(settings, SQLITE).open(token) == CARD
    assert caplog.records == []
    assert Vault([key_file.read_text().strip()]).open(token) == CARD, "the next process finds the same key"
    assert list((tmp_path / "var").iterdir()) == [key_file], "no temporary file is left behind"


def test_sensitive_values_print_as_their_tail() -> None:
    value = Sensitive(CARD)
    assert (str(value), repr(value), f"{[value]}") == ("****1111", "Sensitive(****1111)", "[Sensitive(****1111)]")
    assert value.last4 == "1111"
    assert value == Sensitive(CARD)


def test_check_digits() -> None:
    assert all(luhn_valid(n) for n in (CARD, "378282246310005", "6200000000000005", "79927398713"))
    assert not any(luhn_valid(n) for n in ("4111111111111112", "79927398710", "378282246310050"))
    assert luhn_complete("7992739871") == "79927398713"
    assert iban_valid("GB82WEST12345698765432")
    assert iban_valid("DE89370400440532013000")
    assert not iban_valid("GB82WEST12345698765423")
    assert cn_id_complete("11010519491231002") == "11010519491231002X"
