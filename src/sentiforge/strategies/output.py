"""Reading a model's JSON answer: a bounded, lenient repair, then strict validation."""

from __future__ import annotations

import json
import re
from typing import Any

from sentiforge.errors import InvalidOutputError

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def parse_json_object(raw: str, *, bare_field: str | None = None) -> dict[str, Any]:
    """The JSON object in a model's answer. Repairs only what is unambiguous: code fences,
    prose around one object, trailing commas, a forgotten closing brace, and, when the schema asks for a single string
    field (``bare_field``), an answer that is just a JSON string (``"Great!"``), which small
    models without a grammar give about one time in ten. Anything else raises InvalidOutputError."""
    text = raw.strip()
    if not text:
        raise InvalidOutputError("the model returned an empty answer", raw=raw)
    text = _FENCE.sub("", text).strip()
    if bare_field is not None and text.startswith('"'):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, str):
            return {bare_field: value}
    candidates = [text]
    if text.startswith("{") and not text.endswith("}") and text.endswith('"'):
        # the object's closing brace forgotten after a complete last value (seen ~1 in 20
        # without a grammar); a string cut off by max_tokens does not end in a quote
        candidates.append(text + "}")
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


def single_string_field(schema: dict[str, Any] | None) -> str | None:
    """The field's name when a JSON schema requires exactly one property, a string."""
    if not schema:
        return None
    required = schema.get("required") or []
    props = schema.get("properties") or {}
    if len(required) == 1 and len(props) == 1 and props.get(required[0], {}).get("type") == "string":
        return str(required[0])
    return None


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
