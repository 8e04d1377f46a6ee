"""The JSON parser: DRF's, also refusing what would otherwise end in a 500 further on."""

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be written out as UTF-8.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:  # "[[[[..." nested deeper than Python's stack
            raise ParseError(_("JSON parse error - nested too deeply.")) from exc
        if _has_unstorable_text(data):
            raise ParseError(_("Text must not contain NUL characters or unpaired surrogates."))
        return data


def _has_unstorable_text(data: Any) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
