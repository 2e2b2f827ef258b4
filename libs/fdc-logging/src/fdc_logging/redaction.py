"""Every secret replaced in a finished log line, in whichever form it appears there."""

from __future__ import annotations

import json
from collections.abc import Iterable

REDACTED = "[REDACTED]"


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        forms = set()
        for secret in secrets:
            if secret:
                forms.add(secret)
                forms.add(json.dumps(secret)[1:-1])  # as it appears inside a JSON string
        # Longest first, so a URL is replaced whole before the token inside it.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text
