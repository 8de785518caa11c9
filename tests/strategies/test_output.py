import pytest

from sentiforge.errors import InvalidOutputError
from sentiforge.strategies.output import parse_json_object, single_string_field

TEXT_ONLY = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
WITH_RATIONALE = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "rationale": {"type": "string"}},
    "required": ["text", "rationale"],
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"text": "plain"}', {"text": "plain"}),
        ('```json\n{"text": "fenced",}\n```', {"text": "fenced"}),
        ('Sure! Here it is: {"text": "in prose"} Hope it helps.', {"text": "in prose"}),
        ('{"text": "Meh, I like this album. #Music"', {"text": "Meh, I like this album. #Music"}),
    ],
)
def test_unambiguous_repairs(raw: str, expected: dict[str, str]) -> None:
    assert parse_json_object(raw) == expected


def test_a_bare_string_answer_fills_the_only_field() -> None:
    field = single_string_field(TEXT_ONLY)
    assert field == "text"
    assert parse_json_object('"Yay! Summer break at last #happy"', bare_field=field) == {
        "text": "Yay! Summer break at last #happy"
    }
    # without a single-field schema it stays an error: the answer cannot be mapped
    assert single_string_field(WITH_RATIONALE) is None and single_string_field(None) is None
    with pytest.raises(InvalidOutputError, match="not a JSON object"):
        parse_json_object('"Yay! Summer break at last"')


@pytest.mark.parametrize(
    "raw",
    [
        "Sorry, but as a musician, I don't have personal feelings.",  # prose is never taken as the text
        '{"text": "cut off by max_tokens before the end',  # truncated
        '["a", "list"]',
        "",
    ],
)
def test_what_is_not_repaired(raw: str) -> None:
    with pytest.raises(InvalidOutputError):
        parse_json_object(raw, bare_field="text")
