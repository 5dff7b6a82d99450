"""The operators' ways in, production settings, and README's first command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient

from conftest import ROOT, child_env, wait_for
from tenants.models import User
from tests.browser import free_port


@pytest.mark.django_db
def test_staff_reach_admin_on_the_public_host_only(two_companies: Any) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.test_operators import PASSWORD, mfa_login

    a, _ = two_companies
    operator = User.objects.create_superuser(email="ops@relata.example", password=PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(operator, secret)
    # The admin asks for the same second factor as the console (tests/test_operators.py).
    browser = mfa_login(operator, secret)
    assert browser.get("/ops/admin/").status_code == 200
    assert browser.get("/ops/admin/tenants/company/").status_code == 200
    assert browser.get("/ops/admin/", HTTP_HOST=a.host).status_code == 404

    member = HttpClient()
    member.force_login(a.owner)  # a company owner is not an operator
    response = member.get("/ops/admin/", follow=True)
    # Refused, or sent to allauth's login (never the admin's own password form).
    refused = response.status_code == 403
    assert refused or response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "/ops/admin/login/" not in response.redirect_chain[-1][0]


def test_production_settings_pass_check_deploy() -> None:
    env = child_env(
        RELATA_ENV="production",
        SECRET_KEY="k" * 20 + "-production-secret-for-the-check-" + "z" * 20,
        REDIS_URL="redis://127.0.0.1:6379/0",
        BASE_DOMAIN="relata.example",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in child_env(RELATA_ENV="production").items() if k != "SECRET_KEY"}
    env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("secret_key", "debug", "refusal"),
    [
        ("short-but-secret", "0", "SECRET_KEY is weak"),
        ("django-insecure-" + "a1b2c3d4e5" * 6, "0", "SECRET_KEY is weak"),
        ("x" * 60, "0", "SECRET_KEY is weak"),  # long, but four or fewer different characters
        ("k" * 20 + "-production-secret-for-the-check-" + "z" * 20, "1", "DJANGO_DEBUG"),
    ],
)
def test_production_refuses_a_weak_secret_key_and_debug(
    secret_key: str, debug: str, refusal: str
) -> None:
    env = child_env(
        RELATA_ENV="production",
        SECRET_KEY=secret_key,
        DJANGO_DEBUG=debug,
        REDIS_URL="redis://127.0.0.1:6379/0",
        BASE_DOMAIN="relata.example",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert refusal in result.stderr


def _get(url: str, host: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.mark.once
def test_dev_start_runs_everything_on_embedded_servers_and_keeps_data(tmp_path: Path) -> None:
    """README's first command, on a data dir of its own: start, make a company, stop, start."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PORT=str(port), RELATA_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    urllib.request.install_opener(urllib.request.build_opener(_NoRedirect))

    def run_once(log_name: str, during: Any) -> str:
        log = tmp_path / log_name
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "dev.py", "start"],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
            try:
                # Minutes on a loaded CI machine (both test runs side by side): say what the
                # start printed, the log goes with the test's temporary directory.
                try:
                    wait_for(
                        lambda: _get(f"http://127.0.0.1:{port}/healthz") == 200,
                        timeout=300,
                        what="dev.py start",
                    )
                    wait_for(
                        lambda: (
                            " ready." in log.read_text() and "beat: Starting" in log.read_text()
                        ),
                        timeout=90,
                        what="worker and beat",
                    )
                except AssertionError as error:
                    tail = log.read_text()[-3000:]
                    raise AssertionError(f"{error}; the log's end:\n{tail}") from error
                assert _get(f"http://127.0.0.1:{port}/", host="localhost") == 200
                during()
            finally:
                process.send_signal(signal.SIGINT)
                code = process.wait(timeout=60)
        output = log.read_text()
        assert code == 0, output
        return output

    def make_company() -> None:
        result = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "create_company",
                "--name",
                "Kept",
                "--slug",
                "kept-co",
                "--owner-email",
                "kept@example.com",
            ],
            cwd=ROOT,
            env={**env, "RELATA_OWNER_PASSWORD": "Correct-Horse-42"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    first = run_once("first.log", make_company)
    assert f"http://localhost:{port}/" in first
    assert "Starting development server" in first
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()  # stopped cleanly

    def company_still_there() -> None:
        # Known company: anonymous visitors are sent to log in; unknown ones get 404.
        assert _get(f"http://127.0.0.1:{port}/", host="kept-co.localhost") == 302
        assert _get(f"http://127.0.0.1:{port}/", host="gone-co.localhost") == 404

    run_once("second.log", company_still_there)
