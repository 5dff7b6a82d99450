"""Who may exchange: the company's own exchange login, on its own host, in a live session."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.test import Client as HttpClient
from django.utils import timezone

from exchange1c.models import ExchangeSession
from exchange1c.services import access
from exchange1c.tests.conftest import switched_on
from exchange1c.tests.onec import ENDPOINT, OneC


def test_a_wrong_password_is_refused_and_opens_nothing(exchange: Any) -> None:
    onec = OneC(host=exchange.host, login=exchange.login, password="guess")
    answer = onec.checkauth()
    assert answer.status == 401
    assert answer.word == "failure"
    # No Authorization header at all, and no cookie: the same.
    bare = HttpClient().get(f"{ENDPOINT}?type=catalog&mode=checkauth", HTTP_HOST=exchange.host)
    assert bare.status_code == 401
    assert bare["WWW-Authenticate"].startswith("Basic")
    assert onec.init().word == "failure"
    with exchange.company:
        assert not ExchangeSession.objects.exists()


def test_a_login_in_cyrillic_is_refused_not_a_server_error(exchange: Any) -> None:
    credentials = base64.b64encode("обмен:пароль".encode()).decode()
    answer = HttpClient().get(
        f"{ENDPOINT}?type=catalog&mode=checkauth",
        HTTP_HOST=exchange.host,
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )
    assert answer.status_code == 401


def test_a_person_login_is_not_the_exchange_login(exchange: Any) -> None:
    from conftest import PASSWORD

    onec = OneC(host=exchange.host, login=exchange.owner.email, password=PASSWORD)
    assert onec.checkauth().status == 401


def test_switched_off_rotated_and_expired_sessions_end(exchange: Any) -> None:
    onec = exchange.onec()
    assert onec.checkauth().word == "success"
    assert onec.init().word == "zip=yes"
    with exchange.company:
        ExchangeSession.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert onec.init().word == "failure"  # expired: 1C must log in again
    assert onec.checkauth().word == "success"
    with exchange.company:
        new = access.new_password(company=exchange.company)
    assert onec.init().word == "failure"  # the old password's session ended with it
    assert onec.checkauth().status == 401
    onec.password = new
    assert onec.checkauth().word == "success"
    with exchange.company:
        access.switch(company=exchange.company, enabled=False)
    assert onec.init().word == "failure"
    assert onec.checkauth().status == 401


def test_the_catalogue_cookie_is_not_a_sale_session(exchange: Any) -> None:
    onec = exchange.onec("catalog")
    assert onec.checkauth().word == "success"
    onec.kind = "sale"
    assert onec.get("query").word == "failure"


def test_a_second_companys_login_is_refused_on_the_first_companys_host(
    make_company: Any, media_root: Any
) -> None:
    a = switched_on(make_company("Okna Kirilla"))
    b = switched_on(make_company("Bystrye Dveri"))
    # B's own login and password, presented on A's host.
    on_a = OneC(host=a.host, login=b.login, password=b.password)
    assert on_a.checkauth().status == 401
    # A's cookie is no session on B's host (B's sessions live in B's schema).
    mine = a.onec()
    assert mine.checkauth().word == "success"
    mine.host = b.host
    assert mine.init().word == "failure"
    with b.company:
        assert not ExchangeSession.objects.exists()
    with a.company:
        assert ExchangeSession.objects.count() == 1


def test_wrong_passwords_lock_the_guessing_address_not_the_companys_1c(
    exchange: Any, make_company: Any, monkeypatch: Any
) -> None:
    """100 an hour per address, 1,000 per login; lowered here (each guess costs a hash)."""
    from exchange1c import views

    assert (views.FAILED_LOGINS_PER_HOUR, views.FAILED_LOGINS_PER_HOUR_ALL_ADDRESSES) == (100, 1000)
    monkeypatch.setattr(views, "FAILED_LOGINS_PER_HOUR", 10)
    monkeypatch.setattr(views, "FAILED_LOGINS_PER_HOUR_ALL_ADDRESSES", 30)
    # 1C has exchanged from the office before.
    office = exchange.onec()
    office.http = HttpClient(REMOTE_ADDR="198.51.100.7")
    assert office.checkauth().word == "success"
    wrong = "Basic " + base64.b64encode(f"{exchange.login}:nope".encode()).decode()
    guesser = HttpClient(REMOTE_ADDR="203.0.113.66")
    for _attempt in range(10):
        guesser.get(
            f"{ENDPOINT}?type=sale&mode=checkauth",
            HTTP_HOST=exchange.host,
            HTTP_AUTHORIZATION=wrong,
        )
    # The guessing address waits now, even with the right password...
    locked = exchange.onec()
    locked.http = HttpClient(REMOTE_ADDR="203.0.113.66")
    assert locked.checkauth().status == 401
    # ...and the company's own 1C still exchanges from its address.
    office.http = HttpClient(REMOTE_ADDR="198.51.100.7")
    assert office.checkauth().word == "success"
    # Guessing from many addresses: past the bar for the whole login, only addresses 1C has
    # signed in from before get in.
    for number in range(20):
        HttpClient(REMOTE_ADDR=f"10.9.0.{number + 1}").get(
            f"{ENDPOINT}?type=sale&mode=checkauth",
            HTTP_HOST=exchange.host,
            HTTP_AUTHORIZATION=wrong,
        )
    newcomer = exchange.onec()
    newcomer.http = HttpClient(REMOTE_ADDR="192.0.2.200")
    assert newcomer.checkauth().status == 401
    office.http = HttpClient(REMOTE_ADDR="198.51.100.7")
    assert office.checkauth().word == "success"
    # Another company's exchange is not locked by it (the counters are per company).
    other = switched_on(make_company("Bystrye Dveri"))
    other_onec = other.onec()
    other_onec.http = HttpClient(REMOTE_ADDR="203.0.113.66")
    assert other_onec.checkauth().word == "success"
