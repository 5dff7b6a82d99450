"""Reading mail as old Russian mail programs write it, and mail that is broken."""

from __future__ import annotations

from communications.mime import parse
from communications.tests.mails import b_word, plain


def test_koi8r_body_and_rfc2047_koi8r_subject_are_read_right() -> None:
    raw = plain(
        "=?koi8-r?B?" + "7MXOwQ==" + "?= <lena@example.ru>",  # «Лена» in KOI8-R
        "sales@okna.example",
        b_word("Счёт на окна", "koi8-r"),
        "Добрый день! Пришлите счёт.",
        "<k1@example.ru>",
        charset="koi8-r",
    )
    mail = parse(raw)
    assert mail.subject == "Счёт на окна"
    assert mail.from_name == "Лена"
    assert mail.from_address == "lena@example.ru"
    assert mail.text.strip() == "Добрый день! Пришлите счёт."
    assert mail.problems == []


def test_windows_1251_body_and_subject_are_read_right() -> None:
    raw = plain(
        "Petrov <petrov@example.ru>",
        "sales@okna.example",
        b_word("Замер в пятницу", "windows-1251"),
        "Приезжайте к 10 утра, подъезд №3.",
        "<w1@example.ru>",
        charset="windows-1251",
    )
    mail = parse(raw)
    assert mail.subject == "Замер в пятницу"
    assert "подъезд №3" in mail.text


def test_a_body_that_lies_about_its_charset_is_guessed_and_said_so() -> None:
    body = "Здравствуйте, нужны пластиковые окна на дачу, три штуки, срочно.".encode("cp1251")
    raw = (
        b"From: a@example.ru\r\nSubject: test\r\nMessage-ID: <lie@x>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    )
    mail = parse(raw)
    assert "пластиковые окна" in mail.text
    assert any("charset guessed" in p for p in mail.problems)


def test_raw_8bit_cyrillic_in_a_header_is_guessed() -> None:
    raw = (
        b"From: a@example.ru\r\nSubject: "
        + "Заказ окон для офиса".encode("cp1251")
        + b"\r\nMessage-ID: <h@x>\r\n\r\nbody\r\n"
    )
    assert parse(raw).subject == "Заказ окон для офиса"


def test_multipart_without_its_boundary_is_kept_with_the_problem_named() -> None:
    raw = (
        b"From: broken@example.ru\r\nSubject: broken\r\nMessage-ID: <b@x>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
        b"--nothing\r\nContent-Type: text/plain\r\n\r\nstill here\r\n"
    )
    mail = parse(raw)
    assert mail.problems
    assert mail.problems[0].startswith("malformed")
    assert mail.subject == "broken"


def test_garbage_is_read_without_an_exception() -> None:
    mail = parse(b"\x00\xff\xfe not a message at all \r\n\r\n\x80\x81")
    assert mail.message_id == ""
    assert mail.problems


def test_unknown_charset_in_an_encoded_word_does_not_lose_the_header() -> None:
    mail = parse(b"From: a@b.ru\r\nSubject: =?x-unknown?B?0J/RgNC40LLQtdGC?=\r\n\r\nhi\r\n")
    assert mail.subject == "Привет"


def test_auto_replies_and_list_mail_are_automatic() -> None:
    base = "From: a@example.ru\r\nTo: b@example.ru\r\nSubject: x\r\n"
    assert parse((base + "Auto-Submitted: auto-replied\r\n\r\nhi").encode()).automatic
    assert parse((base + "Precedence: bulk\r\n\r\nhi").encode()).automatic
    assert parse((base + "Auto-Submitted: no\r\n\r\nhi").encode()).automatic is False
    assert parse((base + "\r\nhi").encode()).automatic is False


def test_threading_headers_are_read_nearest_first() -> None:
    raw = (
        b"From: a@b.ru\r\nMessage-ID: <3@x>\r\nIn-Reply-To: <2@x>\r\n"
        b"References: <1@x> <2@x>\r\n\r\nhi"
    )
    assert parse(raw).thread_ids == ["<2@x>", "<1@x>"]
