"""Calls through Twilio's Calls API, reading the script aloud in the customer's language.

The scripts (`*.voice.j2`) are limited-content messages (12 CFR 1006.2(j)): they name no debt, so the same
words are lawful whether a person answers or a voicemail records them, and no answering-machine detection is
needed to decide what may be said.
"""

from __future__ import annotations

from twilio.base import values
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from overdue.channels.base import OutgoingMessage
from overdue.channels.twilio_base import TwilioSender

# Twilio <Say> voice and language per customer locale (Amazon Polly voices).
VOICES = {"en-US": ("Polly.Joanna", "en-US"), "zh-CN": ("Polly.Zhiyu", "cmn-CN")}
PROGRESS_EVENTS = ["initiated", "ringing", "answered", "completed"]


def twiml(script: str, locale: str) -> str:
    """The call's TwiML: the script said once, in the customer's language (the SDK escapes the text)."""
    voice, language = VOICES.get(locale, VOICES["en-US"])
    response = VoiceResponse()
    response.say(script, voice=voice, language=language)
    return str(response)


class TwilioVoice(TwilioSender):
    async def create(self, client: Client, message: OutgoingMessage) -> str:
        callback = self.status_callback(message)
        call = await client.calls.create_async(
            to=message.address,
            from_=self.account.from_number,
            twiml=twiml(message.body, message.locale),
            status_callback=callback or values.unset,
            status_callback_event=PROGRESS_EVENTS if callback else values.unset,
            status_callback_method="POST" if callback else values.unset,
        )
        return str(call.sid)
