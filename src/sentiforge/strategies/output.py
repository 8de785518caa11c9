"""Reading a model's JSON answer: a bounded, lenient repair, then strict validation."""

from __future__ import annotations

import json
import re
from typing import Any

from sentiforge.errors import InvalidOutputError

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def parse_json_object(raw: str) -> dict[str, Any]:
    """The JSON object in a model's answer. Repairs only what is unambiguous: code fences,
    prose around one object, trailing commas. Anything else raises InvalidOutputError."""
    text = raw.strip()
    if not text:
        raise InvalidOutputError("the model returned an empty answer", raw=raw)
    text = _FENCE.sub("", text).strip()
    candidates = [text]
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
            try:
                value = json.loads(attempt)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    raise InvalidOutputError(f"the model's answer is not a JSON object: {raw[:120]!r}", raw=raw)


_LEFTOVER = re.compile(r"\{\{|\}\}|\{%|%\}|<text>|\[(?:product|label|aspect|name|company)\]", re.IGNORECASE)


def check_text(text: Any, *, min_words: int = 3, max_chars: int = 5000) -> str:
    """A generated text worth keeping, or InvalidOutputError saying why not."""
    if not isinstance(text, str):
        raise InvalidOutputError(f"'text' must be a string, got {type(text).__name__}")
    text = text.strip()
    if len(text.split()) < min_words:
        raise InvalidOutputError(f"text too short ({len(text.split())} words): {text!r}", raw=text)
    if len(text) > max_chars:
        raise InvalidOutputError(f"text too long ({len(text)} characters)", raw=text[:200])
    if _LEFTOVER.search(text):
        raise InvalidOutputError(f"text contains a template leftover: {text[:120]!r}", raw=text)
    return text


def contains_term(text: str, term: str) -> bool:
    """The aspect term occurs verbatim (case-insensitive, on word boundaries) in the text."""
    pattern = r"(?<!\w)" + re.escape(term.strip()) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None
