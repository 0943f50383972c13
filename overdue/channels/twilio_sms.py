"""SMS through Twilio's Messages API: from the configured number, or through a messaging service."""

from __future__ import annotations

from twilio.base import values
from twilio.rest import Client

from overdue.channels.base import OutgoingMessage
from overdue.channels.twilio_base import TwilioSender


class TwilioSms(TwilioSender):
    async def create(self, client: Client, message: OutgoingMessage) -> str:
        callback = self.status_callback(message)
        sent = await client.messages.create_async(
            to=message.address,
            body=message.body,
            from_=self.account.from_number or values.unset,
            messaging_service_sid=self.account.messaging_service_sid or values.unset,
            status_callback=callback or values.unset,
        )
        return str(sent.sid)
