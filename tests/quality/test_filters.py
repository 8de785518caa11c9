"""Heuristic filters on real sentences with planted problems."""

from __future__ import annotations

from sentiforge.quality.config import FilterConfig
from sentiforge.quality.filters import FilterCheck, junk_share
from sentiforge.samples import Sample

PLANTED = {
    "As an AI language model, I cannot write a negative review.": "refusal",
    "I'm sorry, but I can't help with that request.": "refusal",
    "Sure! Here is a negative review: the room was dirty and cold.": "meta-text",
    "Here's a positive tweet about my bank: they sorted it out in minutes.": "meta-text",
    "The [product] stopped working after two days.": "template leftover",
    "{{ text }} was great": "template leftover",
}


def test_real_sentences_pass_and_planted_generator_artefacts_are_rejected(yelp: list[Sample]) -> None:
    check = FilterCheck(FilterConfig(languages=["en", "fr"]))
    real = yelp[:500]
    results = check.run(real + [Sample(text=t) for t in PLANTED])
    real_rejects = [r for r in results[: len(real)] if r.verdict == "reject"]
    assert len(real_rejects) <= 5  # real people's sentences nearly all pass
    for result, (text, kind) in zip(results[len(real) :], PLANTED.items(), strict=True):
        assert result.verdict == "reject", text
        assert result.reason and result.reason.startswith(kind), (text, result.reason)


def test_french_refusals_are_caught_but_real_french_complaints_pass() -> None:
    check = FilterCheck(FilterConfig(languages=["en", "fr"]))
    refusals = [
        "Je suis désolé, mais je ne peux pas vous aider avec cela.",  # seen from the 1.5B model
        "En tant qu'assistant IA, je ne peux pas écrire un avis aussi négatif.",
        "Je ne suis pas en mesure de vous aider avec cette demande, merci de votre compréhension.",
    ]
    real = [
        "Je ne peux pas me connecter à mon compte depuis hier, c'est inadmissible !",
        "Désolé de vous déranger encore, ma carte est toujours bloquée.",
        "Le conseiller ne peut pas m'aider et personne ne rappelle, je suis furieuse.",
    ]
    results = check.run([Sample(text=t, language="fr") for t in refusals + real])
    for text, result in zip(refusals, results[:3], strict=True):
        assert result.verdict == "reject" and (result.reason or "").startswith("refusal"), text
    assert [r.verdict for r in results[3:]] == ["pass"] * 3, [r.reason for r in results[3:]]


def test_bad_input_gets_a_reason_never_a_crash() -> None:
    check = FilterCheck(FilterConfig(languages=["en", "fr"]))
    texts = ["", "   \n\t", "word " * 20_000, "\x00\x01\x02\x03\x04binary\x05\x06\x07", "\ufffd\ufffd\ufffdok\ufffd"]
    results = check.run([Sample(text=t) for t in texts])
    reasons = [r.reason or "" for r in results]
    assert [r.verdict for r in results] == ["reject"] * 5
    assert reasons[0] == reasons[1] == "empty text"
    assert reasons[2].startswith("too long (100000 characters")
    assert reasons[3].startswith("binary or control characters")
    assert reasons[4].startswith("binary or control characters")


def test_language_mismatch_and_unknown_language() -> None:
    check = FilterCheck(FilterConfig(unknown_language="reject"))  # the default seven languages
    samples = [
        Sample(text="Le service client était vraiment excellent et très rapide, merci beaucoup", language="en"),
        Sample(text="Le service client était vraiment excellent et très rapide, merci beaucoup", language="fr"),
        Sample(text="xq zzkv brrt qwpl mnbv", language="en"),
        Sample(text="これはとても良い製品です、本当に満足しています 本当に", language="en"),
        Sample(text="Это очень хороший продукт, я доволен покупкой", language="en"),
    ]
    first, second, third, japanese, russian = check.run(samples)
    assert first.verdict == "reject" and "language is fr, expected en" in (first.reason or "")
    assert second.verdict == "pass"
    for result in (third, japanese, russian):
        assert result.verdict == "reject" and "language not identified" in (result.reason or "")


def test_pii_and_profanity_only_when_asked() -> None:
    text = "Call me on +44 20 7946 0958 or mail jo@example.com, this shit is broken"
    assert (
        FilterCheck(FilterConfig(language="off", unknown_language="off")).run([Sample(text=text)])[0].verdict == "pass"
    )
    asked = FilterCheck(FilterConfig(language="off", unknown_language="off", pii="flag", profanity="reject"))
    result = asked.run([Sample(text=text)])[0]
    assert result.verdict == "reject"
    assert "possible PII (email)" in (result.reason or "") and "possible PII (phone)" in (result.reason or "")
    assert "profanity (shit)" in (result.reason or "")


def test_junk_share_ignores_ordinary_whitespace() -> None:
    assert junk_share("line one\nline two\ttab") == 0.0
    assert junk_share("ab\x00\x01") == 0.5
