"""Uploaded files in S3, under a per-company prefix: ``<bucket>/<company schema>/<path>``.

The prefix is read from the connection's schema at each call, as django-tenants' filesystem
storage does, so one storage object serves every company and a path saved by company A is not
even addressable by company B.
"""

from __future__ import annotations

from storages.backends.s3 import S3Storage

from relata.db import connection


class CompanyS3Storage(S3Storage):
    default_acl = None
    file_overwrite = False
    querystring_auth = True  # private bucket: links are signed and expire

    @property
    def location(self) -> str:
        return connection.schema_name

    @location.setter
    def location(self, value: str) -> None:
        # S3Storage assigns its configured location at init; the company decides instead.
        pass
