#!/usr/bin/env python3
"""Health check of a web container: GET /healthz from this container's gunicorn.

Asks as the public host (``BASE_DOMAIN``, over "https" as nginx would say), so that Django's
host checks and HTTPS redirect treat it like a real request. Standard library only: it starts
in milliseconds and needs neither Django nor curl in the image.

    python3 infra/healthcheck.py          # ready: 200 only (database and broker answer)
    python3 infra/healthcheck.py --live   # alive: gunicorn answers at all (200 or 503)

Use the default where "unhealthy" means "send no traffic" (compose's depends_on, a load
balancer); use ``--live`` where "unhealthy" means "kill the container", so that a database
outage does not restart every web process at once.
"""

from __future__ import annotations

import http.client
import os
import sys


def main(argv: list[str]) -> int:
    live = "--live" in argv
    port = int(os.environ.get("HEALTHCHECK_PORT") or os.environ.get("PORT") or "8000")
    host = os.environ.get("BASE_DOMAIN", "localhost")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        body = response.read(2000).decode("utf-8", "replace")
    except OSError as exc:
        sys.stderr.write(f"healthz on port {port}: {exc}\n")
        return 1
    finally:
        connection.close()
    accepted = {200, 503} if live else {200}
    if response.status not in accepted:
        sys.stderr.write(f"healthz on port {port}: HTTP {response.status} {body}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
