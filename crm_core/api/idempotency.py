"""``Idempotency-Key`` on the API's writes: the same key answers the same response for 24 h.

The first request with a key claims it by inserting a row (a unique index on token and key)
in the same transaction as the write and its stored answer (the view set wraps such a request
in one): a concurrent twin waits on that insert, then replays the committed answer — of five
simultaneous retries exactly one runs — and a request that dies half-way rolls back its claim
with its write, so the retry runs. A finished request's status and body are kept and replayed;
the same key with a different body is refused (422), since replaying an answer to another
request would be a lie. A server error answered as such frees the key too.
Hand-written: DRF has no idempotency of its own, and the packages that add it keep their
records in a cache — which is down exactly when retries matter (see docs/decisions.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm_core.api.models import ApiToken, IdempotentRequest

KEPT_FOR = timedelta(hours=24)
HEADER = "Idempotency-Key"


@dataclass
class Claim:
    """What ``claim`` found: a request to run (``record``), or an answer to give instead."""

    record: IdempotentRequest | None = None
    replay: tuple[int, Any] | None = None
    conflict: str = ""  # "in_progress" or "key_reused"


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def claim(token: ApiToken, key: str, request_fingerprint: str) -> Claim:
    now = timezone.now()
    # Forget this token's keys past their time (bounded by the index on token and age).
    IdempotentRequest.objects.filter(token=token, created_at__lt=now - KEPT_FOR).delete()
    try:
        with transaction.atomic():
            record = IdempotentRequest.objects.create(
                token=token, key=key, fingerprint=request_fingerprint, created_at=now
            )
        return Claim(record=record)
    except IntegrityError:
        pass
    earlier = IdempotentRequest.objects.get(token=token, key=key)
    if earlier.fingerprint != request_fingerprint:
        return Claim(conflict="key_reused")
    if earlier.status_code is None:
        return Claim(conflict="in_progress")
    return Claim(replay=(earlier.status_code, earlier.response))


def finish(record: IdempotentRequest, status_code: int, data: Any) -> None:
    if status_code >= 500:
        record.delete()  # nothing was answered for sure: let the retry run
        return
    record.status_code = status_code
    record.response = data
    record.save(update_fields=["status_code", "response"])
