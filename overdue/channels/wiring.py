"""Which sender each channel uses: the dry-run outbox unless the settings make a channel live, and a live channel
only with everything it needs; otherwise a configuration error that names the variables to set."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from pydantic import SecretStr

from overdue.channels.retries import Pacing, RetryPolicy
from overdue.channels.router import ChannelRouter, Sender
from overdue.channels.sendgrid_email import SendGridAccount, SendGridEmail
from overdue.channels.throttle import RateLimiter
from overdue.channels.twilio_base import TwilioAccount
from overdue.channels.twilio_sms import TwilioSms
from overdue.channels.twilio_voice import TwilioVoice
from overdue.domain.addresses import email_problem, is_e164
from overdue.settings import Settings, SettingsError, env_name

LIVE_CHANNELS = ("sms", "voice", "email")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
URL = re.compile(r"https?://[^\s/]+(/\S*)?")
TWILIO_TIMEOUT = 30.0  # seconds for one request's answer
SENDGRID_TIMEOUT = 60.0  # a request of a thousand emails is a few megabytes


@cache
def limiter_for(provider_channel: str, rate: float) -> RateLimiter:
    """One limiter per provider channel and rate in this process, however many runtimes are built."""
    return RateLimiter(rate)


def build_channels(settings: Settings) -> ChannelRouter:
    senders: dict[str, Sender] = {}
    for channel in LIVE_CHANNELS:
        if settings.outreach_mode_for(channel) == "live":
            senders[channel] = BUILDERS[channel](settings)
    return ChannelRouter(senders)


def _require(settings: Settings, channel: str, *fields: str) -> None:
    missing = [env_name(field) for field in fields if not getattr(settings, field)]
    if missing:
        override = f"outreach_mode_{channel}"
        mode = env_name(override if getattr(settings, override) else "outreach_mode")
        raise SettingsError(f"{channel} is live ({mode}=live) but {', '.join(missing)} is not set")


def _check(ok: bool, field: str, problem: str) -> None:
    if not ok:
        raise SettingsError(f"{env_name(field)} {problem}")


def _twilio_account(settings: Settings, channel: str) -> TwilioAccount:
    _require(settings, channel, "twilio_account_sid", "twilio_auth_token")
    sid = settings.twilio_account_sid or ""
    _check(bool(ACCOUNT_SID.fullmatch(sid)), "twilio_account_sid", "must be AC followed by 32 hex digits")
    if settings.twilio_from_number:
        _check(is_e164(settings.twilio_from_number), "twilio_from_number", "must be a phone number in E.164 form")
    if settings.twilio_messaging_service_sid:
        _check(
            bool(SERVICE_SID.fullmatch(settings.twilio_messaging_service_sid)),
            "twilio_messaging_service_sid",
            "must be MG followed by 32 hex digits",
        )
    _check_urls(settings, "twilio_base_url", "public_url")
    assert settings.twilio_auth_token is not None
    return TwilioAccount(
        sid,
        settings.twilio_auth_token,
        settings.twilio_from_number,
        settings.twilio_messaging_service_sid,
        settings.twilio_base_url,
    )


def _check_urls(settings: Settings, *fields: str) -> None:
    for field in fields:
        value = getattr(settings, field)
        _check(value is None or bool(URL.fullmatch(value)), field, "must be an http(s):// URL")


def _pacing(settings: Settings, provider_channel: str, rate: float, concurrency: int, timeout: float) -> Pacing:
    return Pacing(limiter_for(provider_channel, rate), RetryPolicy(settings.provider_attempts), concurrency, timeout)


def _sms(settings: Settings) -> TwilioSms:
    if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
        raise SettingsError(
            f"sms is live but neither {env_name('twilio_from_number')} nor "
            f"{env_name('twilio_messaging_service_sid')} is set"
        )
    pacing = _pacing(settings, "twilio-sms", settings.sms_rate, settings.twilio_concurrency, TWILIO_TIMEOUT)
    return TwilioSms(_twilio_account(settings, "sms"), pacing, settings.public_url)


def _voice(settings: Settings) -> TwilioVoice:
    _require(settings, "voice", "twilio_from_number")  # a call needs a number to call from
    pacing = _pacing(settings, "twilio-voice", settings.voice_rate, settings.twilio_concurrency, TWILIO_TIMEOUT)
    return TwilioVoice(_twilio_account(settings, "voice"), pacing, settings.public_url)


def _email(settings: Settings) -> SendGridEmail:
    # Every email carries an unsubscribe link to our webhooks service, signed with the secret.
    _require(settings, "email", "sendgrid_api_key", "email_from", "public_url", "unsubscribe_secret")
    _check(not email_problem(settings.email_from or ""), "email_from", "is not an email address")
    _check_urls(settings, "sendgrid_base_url", "public_url")
    assert settings.sendgrid_api_key is not None
    assert settings.public_url is not None
    assert isinstance(settings.unsubscribe_secret, SecretStr)
    account = SendGridAccount(
        settings.sendgrid_api_key, settings.email_from or "", settings.business_name, settings.sendgrid_base_url
    )
    pacing = _pacing(settings, "sendgrid-email", settings.email_rate, settings.email_concurrency, SENDGRID_TIMEOUT)
    return SendGridEmail(account, pacing, settings.public_url, settings.unsubscribe_secret)


BUILDERS: dict[str, Callable[[Settings], Sender]] = {"sms": _sms, "voice": _voice, "email": _email}
