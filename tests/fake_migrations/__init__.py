"""Migration packages that extend an app's real migrations with what a release might add.

A package here puts the app's real migrations folder on its own ``__path__``, so Django's
loader sees every real migration plus the extra files, and ``latest_real`` lets an extra
migration depend on whatever the real latest migration is today.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType


def extend(package_path: list[str], real: ModuleType) -> None:
    assert real.__file__ is not None
    package_path.append(str(Path(real.__file__).parent))


def latest_real(real: ModuleType) -> str:
    assert real.__file__ is not None
    names = sorted(p.stem for p in Path(real.__file__).parent.glob("[0-9][0-9][0-9][0-9]_*.py"))
    return names[-1]
