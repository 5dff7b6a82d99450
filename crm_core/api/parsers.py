"""JSON in, bounded before it is parsed (depth, size) and refused when it holds text
PostgreSQL cannot store (relata.jsonlimits, shared with every other JSON entry point)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from relata import jsonlimits


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        # Read one byte past the limit: enough to know it is too large, never the whole body.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or jsonlimits.MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        try:
            return jsonlimits.loads(raw, max_bytes=limit)
        except jsonlimits.UnacceptableJSONError as exc:
            # The API's clients know unreadable bodies as "parse_error"; the bounds are new codes.
            code = exc.code if exc.code in {"too_deep", "too_large"} else "parse_error"
            raise ParseError(str(exc), code=code) from exc
