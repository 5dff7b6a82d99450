"""What the telephony side tells the rest of the product, without importing it.

``call_logged``: a call ended and was put on the card (once per call, inside the
transaction that logged it). Arguments: ``company``, ``call`` (telephony.Call).
"""

from django.dispatch import Signal

call_logged = Signal()
