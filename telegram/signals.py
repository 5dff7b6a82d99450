"""What the Telegram side tells the rest of the product, without importing it.

``client_message``: a client's message was kept (inside the webhook's transaction).
Arguments: ``company``, ``message`` (telegram.TelegramMessage, with the contact person or
client it was matched to). A receiver that takes the message over (customer service making
it a ticket) returns True; the message then does not become a request.
"""

from django.dispatch import Signal

client_message = Signal()
