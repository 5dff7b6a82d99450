"""Inspection of an upload in a child process with a memory and a time limit.

The upload and the mapping page read a file's head while a person waits. bounds.py caps what a
well-formed file can make that reading do, but the parsers themselves (calamine, xlrd, libxml2)
allocate as the file says: an xls is loaded whole, a sheet's shared strings are read whole, and
a hostile file can ask for gigabytes. So the reading runs in a forked child: the parent watches
the memory the child makes its own (RLIMIT_AS is a backstop), RLIMIT_CPU and a wall-clock
deadline bound its time; if it dies, runs out of memory or out of time, the person is told the
file is too heavy to read, and the web process has lost nothing but the wait.

Fork rather than a Celery task: the person is waiting for this page anyway, a fork of the web
process starts in milliseconds with everything imported (a fresh interpreter takes a second),
and the child inherits the upload's stream as it is (in memory or a temporary file). The child
only reads the stream and computes; it never touches the database, the cache or a lock that
another thread of the parent might hold. Hand-written because no maintained package does
"call this function in a fork with rlimits and return its result".
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings

from onboarding.importing.errors import UnreadableFile

T = TypeVar("T")
MB = 1024 * 1024
POLL_SECONDS = 0.02
BACKSTOP = 2  # the address space may grow by twice the budget before allocations fail


def bounded(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``work(*args, **kwargs)`` in a child process within the inspection limits."""
    memory_mb = settings.IMPORT_INSPECTION_MB
    seconds = settings.IMPORT_INSPECTION_SECONDS
    if not memory_mb and not seconds:
        return work(*args, **kwargs)  # isolation switched off (operators' choice)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_run, args=(send, memory_mb, seconds, work, args, kwargs), daemon=True
    )
    child.start()
    send.close()
    deadline = time.monotonic() + seconds if seconds else None
    try:
        while not receive.poll(POLL_SECONDS):
            if deadline is not None and time.monotonic() > deadline:
                raise UnreadableFile("inspection_too_slow", seconds=seconds)
            if memory_mb and _private_memory(child.pid) > memory_mb * MB:
                raise UnreadableFile("inspection_too_heavy", mb=memory_mb)
            if not child.is_alive() and not receive.poll(0):
                raise EOFError
        outcome, value = receive.recv()
    except EOFError:
        # The child died without a word: the address-space limit (a native parser aborts on a
        # failed allocation) or the CPU limit.
        raise UnreadableFile("inspection_too_heavy", mb=memory_mb) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if outcome == "ok":
        return value
    if outcome == "unreadable":
        code, params = value
        raise UnreadableFile(code, **params)
    if outcome == "memory":
        raise UnreadableFile("inspection_too_heavy", mb=memory_mb)
    raise RuntimeError(f"inspecting the upload failed in the child process: {value}")


def _run(  # noqa: PLR0917  (the child's whole brief, passed by multiprocessing)
    send: Connection,
    memory_mb: int,
    seconds: float,
    work: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    if memory_mb:
        # The parent watches the memory the child makes its own (a fork shares the parent's
        # pages until they are written, and may reuse the parent's free heap without asking the
        # system for more); the address-space limit stops one huge allocation between looks.
        allowed = _address_space() + BACKSTOP * memory_mb * MB
        resource.setrlimit(resource.RLIMIT_AS, (allowed, allowed))
    if seconds:
        cpu = int(seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    try:
        send.send(("ok", work(*args, **kwargs)))
    except UnreadableFile as exc:
        send.send(("unreadable", (exc.code, exc.params)))
    except MemoryError:
        send.send(("memory", None))
    except Exception as exc:
        send.send(("error", repr(exc)))
    finally:
        send.close()


def _private_memory(pid: int | None) -> int:
    """Bytes of memory only this child holds (written since the fork, or new)."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii")
    except OSError:
        return 0  # gone already: the pipe tells why
    return sum(
        int(line.split()[1]) * 1024
        for line in text.splitlines()
        if line.startswith(("Private_Dirty:", "Private_Clean:"))
    )


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0
