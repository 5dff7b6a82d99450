"""Keep Python's full garbage collections short in the web processes.

A web process holds ~250,000 long-lived objects once Django, the apps, the URLconf, the
templates and the translations are loaded. Python's oldest-generation collection walks all of
them: ~190 ms on the machine of docs/benchmarks.md, every few dozen requests, with every
thread of the worker stopped — the slow tail of the load test (bench/load.py). None of those
objects ever becomes garbage, so they are moved out of the collector's sight with
``gc.freeze()``: once when the application is loaded, and once more after the first requests
have filled the lazily built caches (compiled templates, translation catalogues, model
metadata). A full collection then walks only what requests made since (~20 ms).

Hand-written (a dozen lines of the standard library; no package does this for a WSGI app);
docs/decisions.md.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

from django.core.signals import request_finished

# By then the pages people use have been drawn once and their caches are in place.
WARM_REQUESTS = 200

_lock = threading.Lock()
_served = 0


def freeze_loaded_application() -> None:
    """Called once the WSGI application is loaded; later requests finish the job."""
    gc.freeze()
    request_finished.connect(_count_request, dispatch_uid="relata.gc_tuning")


def _count_request(**_kwargs: Any) -> None:
    global _served  # noqa: PLW0603  (one count per process, behind the lock)
    with _lock:
        _served += 1
        if _served != WARM_REQUESTS:
            return
    # The response has been sent: this request's person does not wait for the collection.
    request_finished.disconnect(dispatch_uid="relata.gc_tuning")
    gc.collect()
    gc.freeze()
