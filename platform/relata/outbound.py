"""Which addresses Relata's servers may connect to on a company's behalf.

A company types the address of its webhook receiver or its mail server; Relata then connects
from inside its own network. Without a check, that is a way to reach what only Relata's servers
can reach (the cloud's metadata service, Redis, PostgreSQL): server-side request forgery.
"""

from __future__ import annotations

import ipaddress
import socket


def is_public(raw: str) -> bool:
    """Whether an address is one on the internet: not loopback, private, link-local, shared
    (CGNAT), reserved, documentation or multicast. ``raw`` may carry an IPv6 zone (``%eth0``)."""
    address = ipaddress.ip_address(raw.split("%", 1)[0])
    # is_global is False for every non-internet range but multicast, which is refused by name.
    return address.is_global and not address.is_multicast


def is_loopback(raw: str) -> bool:
    return ipaddress.ip_address(raw.split("%", 1)[0]).is_loopback


def non_public_addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now that are not public; [] when it does not resolve
    (the connection itself then says there is no such server)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [str(info[4][0]) for info in infos if not is_public(str(info[4][0]))]
