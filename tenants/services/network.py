"""The client's address, and a company's "office only" allow-list."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from tenants.models import Company, Membership

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address the trusted proxies in front of us saw (X-Forwarded-For,
    counted from the right, so a client cannot forge its way in)."""
    proxies = settings.ALLAUTH_TRUSTED_PROXY_COUNT
    forwarded = [
        p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def parse_allowlist(text: str) -> list[Network]:
    networks = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValidationError(
                _("Line %(line)s: %(entry)s is not an IP address or network (e.g. 203.0.113.0/24).")
                % {"line": number, "entry": entry},
                code="invalid_network",
            ) from exc
    return networks


def allowed(text: str, address: str) -> bool:
    networks = parse_allowlist(text)
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def validate_allowlist(text: str, *, keeps_in: str) -> str:
    """The cleaned list; refused if it would lock out the admin who is saving it."""
    networks = parse_allowlist(text)
    if networks and not allowed(text, keeps_in):
        raise ValidationError(
            _("Your own address %(ip)s is not in the list: you would lock yourself out.")
            % {"ip": keeps_in},
            code="locks_out",
        )
    return "\n".join(str(n) for n in networks)


def set_allowlist(
    *, company: Company, membership: Membership, text: str, current_ip: str
) -> Company:
    """Owners and admins only; saving a list that excludes the saver is refused."""
    if membership.role not in (Membership.Role.OWNER, Membership.Role.ADMIN):
        raise PermissionDenied("owners and admins only")
    company.ip_allowlist = validate_allowlist(text, keeps_in=current_ip)
    company.save(update_fields=["ip_allowlist"])
    return company
