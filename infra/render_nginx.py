#!/usr/bin/env python3
"""Render infra/nginx/relata.conf.template into an nginx config, from the environment.

    BASE_DOMAIN=relata.example TLS_CERTIFICATE=/etc/ssl/relata/fullchain.pem \\
    TLS_CERTIFICATE_KEY=/etc/ssl/relata/privkey.pem \\
        python3 infra/render_nginx.py -o /etc/nginx/conf.d/relata.conf

Semantics are those of the nginx image's templates/ step (envsubst limited to the variables
that are set), narrowed to ``${UPPER_CASE}`` names: nginx's own variables (``$host``,
``${request_id}``) are never touched. Unlike envsubst, a name that is neither set (non-empty)
nor given a default below is an error, and every missing name is listed at once; values are
checked so that none can smuggle a directive into the config (no spaces, ``;``, braces, quotes).

Exit status: 0 rendered, 2 missing or invalid values (message on stderr).
"""

from __future__ import annotations

import argparse
import os
import re
import string
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "relata.conf.template"

# Variables without a default must be set; the compose file sets every one of them explicitly
# (the nginx image applies no defaults).
DEFAULTS: dict[str, str] = {
    "UPSTREAM": "127.0.0.1:8000",
    "HTTP_PORT": "80",
    "HTTPS_PORT": "443",
    "CLIENT_MAX_BODY_SIZE": "25m",
    "IMPORT_MAX_BODY_SIZE": "513m",
    "PROXY_READ_TIMEOUT": "60s",
    "HSTS_MAX_AGE": "31536000",
    "NGINX_CACHE_DIR": "/var/cache/nginx/relata",
}
DESCRIPTIONS: dict[str, str] = {
    "BASE_DOMAIN": "public site's domain; companies are <slug>.BASE_DOMAIN",
    "TLS_CERTIFICATE": "certificate chain (PEM) valid for BASE_DOMAIN and *.BASE_DOMAIN",
    "TLS_CERTIFICATE_KEY": "its private key (PEM)",
    "UPSTREAM": "gunicorn address(es), host:port",
    "HTTP_PORT": "port of the HTTP to HTTPS redirect",
    "HTTPS_PORT": "port of the site",
    "CLIENT_MAX_BODY_SIZE": "largest request body (uploads), nginx size syntax",
    "IMPORT_MAX_BODY_SIZE": "largest import upload: MAX_IMPORT_MB plus 1m for the form",
    "PROXY_READ_TIMEOUT": "how long to wait for gunicorn's answer (above gunicorn's timeout)",
    "HSTS_MAX_AGE": "Strict-Transport-Security max-age in seconds",
    "NGINX_CACHE_DIR": "directory of the static-file cache (created by nginx)",
}
_SAFE_VALUE = re.compile(r"[^\s;{}'\"$#\\]+")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
_NAMES = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


class NginxTemplate(string.Template):
    """``string.Template`` that substitutes only ``${UPPER_CASE}``; ``$host`` etc. stay."""

    pattern = r"""
    \$(?:
        (?P<escaped>(?!))                   |  # no escape sequence: nginx has its own $ syntax
        (?P<named>(?!))                     |  # bare $name is always nginx's
        \{(?P<braced>[A-Z][A-Z0-9_]*)\}     |  # ${NAME}: ours
        (?P<invalid>(?!))
    )
    """  # type: ignore[assignment]


class TemplateError(ValueError):
    """Missing or unsafe variables; the message names every one."""

    def __init__(self, missing: Sequence[str], invalid: Mapping[str, str]) -> None:
        self.missing = list(missing)
        self.invalid = dict(invalid)
        parts = []
        if self.missing:
            parts.append(
                "missing variables: "
                + ", ".join(self.missing)
                + " (set them in the environment; see infra/README.md)"
            )
        for name, problem in self.invalid.items():
            parts.append(f"invalid {name}: {problem}")
        super().__init__("; ".join(parts))


def variables_in(text: str) -> list[str]:
    """The ``${NAME}`` variables a template uses, sorted."""
    return sorted(set(_NAMES.findall(text)))


def _problem(name: str, value: str) -> str | None:
    if not _SAFE_VALUE.fullmatch(value):
        return f"{value!r} contains whitespace, quotes, ';', '#', '$', braces or backslashes"
    if name == "BASE_DOMAIN" and not _HOSTNAME.fullmatch(value):
        return f"{value!r} is not a lower-case host name (no scheme, port, wildcard or dot at ends)"
    if name.endswith("_PORT") and not (value.isdigit() and 0 < int(value) < 65536):
        return f"{value!r} is not a port number"
    return None


def render(text: str, environ: Mapping[str, str]) -> str:
    """Substitute the template's variables from ``environ`` (empty counts as unset)."""
    values: dict[str, str] = {}
    missing: list[str] = []
    invalid: dict[str, str] = {}
    for name in variables_in(text):
        value = environ.get(name, "").strip() or DEFAULTS.get(name, "")
        if not value:
            missing.append(name)
            continue
        problem = _problem(name, value)
        if problem:
            invalid[name] = problem
        values[name] = value
    if missing or invalid:
        raise TemplateError(missing, invalid)
    return NginxTemplate(text).substitute(values)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE, help="template to render")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    parser.add_argument("--list", action="store_true", help="list the variables and exit")
    args = parser.parse_args(argv)
    text = args.template.read_text(encoding="utf-8")
    if args.list:
        for name in variables_in(text):
            default = DEFAULTS.get(name)
            need = f"default {default}" if default else "required"
            sys.stdout.write(f"{name:22} {need:34} {DESCRIPTIONS.get(name, '')}\n")
        return 0
    try:
        rendered = render(text, os.environ)
    except TemplateError as exc:
        sys.stderr.write(f"render_nginx: {exc}\n")
        return 2
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(rendered, encoding="utf-8")
    else:
        sys.stdout.write(rendered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
