"""What the mail side tells the rest of the product, without importing it.

``message_stored``: a fetched message was kept (sent inside the transaction that kept it, so
a receiver's writes commit or roll back with it). Arguments: ``company``, ``mailbox``,
``message`` (communications.Message). Customer service makes tickets from it.
"""

from django.dispatch import Signal

message_stored = Signal()
