"""vCard files as Outlook, Android, iOS and Windows write them (built here, in their shapes)."""

from __future__ import annotations

import quopri


def qp(text: str, charset: str = "cp1251") -> str:
    """Quoted-printable as Outlook writes it: soft line breaks ("=" at a line's end) at 76."""
    return quopri.encodestring(text.encode(charset)).decode("ascii").replace("\n", "\r\n")


def outlook_21() -> bytes:
    """Russian Outlook's export: vCard 2.1, QUOTED-PRINTABLE windows-1251, CRLF, three cards
    (two of one company, one private person), a fax, a note and a photo."""
    cp = "CHARSET=Windows-1251;ENCODING=QUOTED-PRINTABLE"
    long_org = 'ООО "Ромашка и партнёры по оптовой торговле строительными материалами"'
    cards = [
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"N;{cp}:{qp('Иванов;Пётр;Сергеевич;;')}",
        f"FN;{cp}:{qp('Пётр Сергеевич Иванов')}",
        f"ORG;{cp}:{qp(long_org + ';Отдел продаж')}",
        f"TITLE;{cp}:{qp('Менеджер')}",
        "TEL;WORK;VOICE:+7 (495) 123-45-67",
        "TEL;CELL;VOICE:8 916 123 45 67",
        "TEL;WORK;FAX:+7 (495) 123-45-68",
        "EMAIL;PREF;INTERNET:Petr.Ivanov@romashka.ru",
        f"NOTE;{cp}:{qp('Звонить после обеда')}",
        "PHOTO;TYPE=JPEG;ENCODING=BASE64:",
        " /9j/4AAQSkZJRgABAQEAYABgAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRof",
        " Hh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwh",
        "",
        "REV:20260301T100000Z",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"N;{cp}:{qp('Смирнова;Ольга;;;')}",
        f"FN;{cp}:{qp('Ольга Смирнова')}",
        f"ORG;{cp}:{qp(long_org)}",
        f"TITLE;{cp}:{qp('Главный бухгалтер')}",
        "TEL;WORK;VOICE:+7 (495) 123-45-69",
        "EMAIL;INTERNET:buh@romashka.ru",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"N;{cp}:{qp('Кузнецов;Николай;;;')}",
        f"FN;{cp}:{qp('Николай Кузнецов')}",
        "TEL;HOME:+7 903 555-66-77",
        f"ADR;HOME;{cp}:{qp(';;ул. Ленина, 1;Москва;;101000;Россия')}",
        "END:VCARD",
    ]
    return ("\r\n".join(cards) + "\r\n").encode("ascii")


def android_21_raw_8bit() -> bytes:
    """An older phone's 2.1 export: windows-1251 bytes as they are, with CHARSET only."""
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\n"
        "N;CHARSET=WINDOWS-1251:Орлова;Анна;;;\r\n"
        "FN;CHARSET=WINDOWS-1251:Анна Орлова\r\n"
        "ORG;CHARSET=WINDOWS-1251:ИП Орлова А. В.\r\n"
        "TEL;CELL:+79161112233\r\n"
        "END:VCARD\r\n"
    )
    return text.encode("cp1251")


def ios_30() -> bytes:
    """iOS / macOS Contacts: vCard 3.0, UTF-8, grouped properties, X-ABLabel."""
    return (
        "BEGIN:VCARD\r\n"
        "VERSION:3.0\r\n"
        "PRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\n"
        "N:Петров;Илья;Андреевич;;\r\n"
        "FN:Илья Андреевич Петров\r\n"
        "ORG:Вектор\\, ООО;Снабжение\r\n"
        "TITLE:Закупщик\r\n"
        "item1.EMAIL;type=INTERNET;type=pref:ilya@vector.ru\r\n"
        "item1.X-ABLabel:_$!<Other>!$_\r\n"
        "TEL;type=CELL;type=VOICE;type=pref:+7 (926) 000-11-22\r\n"
        "TEL;TYPE=WORK,VOICE:+7 495 222-33-44 доб. 105\r\n"
        "BDAY:1985-04-12\r\n"
        "X-SKYPE:ilya.petrov\r\n"
        "UID:1B2C3D4E-0000-1111-2222-333344445555\r\n"
        "END:VCARD\r\n"
    ).encode()


def google_40() -> bytes:
    """vCard 4.0: tel: URIs, quoted TYPE lists, a company's own card (ORG and no name)."""
    return (
        "BEGIN:VCARD\n"
        "VERSION:4.0\n"
        "FN:Анна Сергеевна Белова\n"
        "N:Белова;Анна;Сергеевна;;\n"
        'TEL;VALUE=uri;TYPE="work,voice":tel:+7-812-333-44-55\n'
        "EMAIL;TYPE=work:belova@neva.spb.ru\n"
        "ORG:Нева\n"
        "END:VCARD\n"
        "BEGIN:VCARD\n"
        "VERSION:4.0\n"
        "ORG:Нева\n"
        "KIND:org\n"
        'TEL;VALUE=uri;TYPE="work,voice":tel:+7-812-333-40-00\n'
        "EMAIL;TYPE=work:office@neva.spb.ru\n"
        "URL:neva.spb.ru\n"
        "END:VCARD\n"
    ).encode()
