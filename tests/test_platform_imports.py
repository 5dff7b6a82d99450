"""`platform/` must never shadow the standard library's ``platform`` module."""

import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_stdlib_platform_works_next_to_django_celery_and_sentry() -> None:
    # A fresh interpreter in the project root: the place where shadowing would bite.
    code = (
        "import platform, django, celery, sentry_sdk, uuid;"
        "import relata, relata.celery;"
        "print(platform.system(), django.get_version(), celery.__version__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == platform.system()
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_relata_package_lives_in_platform_folder() -> None:
    import relata

    assert Path(relata.__file__).resolve().parent == ROOT / "platform" / "relata"
