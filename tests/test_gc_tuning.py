"""The web process keeps its loaded application out of Python's full garbage collections
(relata.gc_tuning): frozen when the WSGI application loads, and again after the first
requests, once the lazily built caches exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import gc
from django.core.signals import request_finished
import relata.wsgi
from relata import gc_tuning
loaded = gc.get_freeze_count()
assert loaded > 50_000, loaded  # Django and the apps
made_by_requests = [[i] for i in range(20_000)]  # what the first requests leave behind
for _ in range(gc_tuning.WARM_REQUESTS - 1):
    request_finished.send(sender=None)
assert gc.get_freeze_count() == loaded, "frozen again too early"
request_finished.send(sender=None)
assert gc.get_freeze_count() >= loaded + 20_000, (loaded, gc.get_freeze_count())
assert not request_finished.disconnect(dispatch_uid="relata.gc_tuning"), "still counting"
print("ok")
"""


def test_the_wsgi_application_freezes_what_it_loaded_and_again_after_warming_up() -> None:
    # A process of its own: freezing is for the life of the process.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "relata.settings"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
