"""The writer's voice and the generator's artefacts: texts a customer would not have written.

Asked for a customer's message, a small model often writes the company's answer instead
("Hello! How can I assist you today?", "We apologize for the inconvenience"), leaves a
template's placeholder ("Dear [Customer Name]") or the end of its JSON (a stray ``}``). Each
gets its own reason, during generation (strategies/generate.py) and in the gate's filters.

The patterns were checked against every real text packaged with sentiforge (4,200 tweets,
18,303 VADER review and editorial sentences, 3,000 UCI review sentences): none of them is
taken for an agent's voice or an artefact (tests/quality/test_voice.py).
"""

from __future__ import annotations

import re

AGENT_VOICE = re.compile(
    r"\bhow (?:can|may|could) (?:i|we) (?:help|assist) you\b|"
    r"\bis there anything else (?:i|we) can (?:help|assist|do)\b|"
    r"\b(?:thank you|thanks) for (?:contacting|reaching out to|choosing|shopping with) us\b|"
    r"\b(?:thank you|thanks) for (?:your (?:patience|purchase|inquiry|enquiry|business)|"
    r"bringing this to our attention)\b|"
    r"\bwe (?:sincerely )?apologi[sz]e for (?:the|any|this) (?:inconvenience|trouble|delay|issue)|"
    r"\bdear (?:valued )?(?:customer|client|user|\[)|"
    r"\b(?:our|the) (?:support |customer service |customer care )?team will (?:get back|contact|reach out|be in touch)|"
    r"\bwe(?:'re| are) (?:sorry|glad|happy|thrilled|delighted) to hear\b|"
    r"\b(?:i'?m|i am) (?:so |really |very )?sorry to hear (?:that )?"
    r"(?:you|about (?:the|your) (?:problem|issue|trouble))|"
    r"\bi can (?:definitely |certainly )?help you with (?:that|this)\b|"
    r"\b(?:i'?m|i am) (?:so )?sorry (?:that )?you(?:'re| are) having\b|\bi'?m (?:always )?here to (?:help|assist)\b|"
    r"\b(?:can|could) you (?:please )?(?:tell|give|provide) (?:me|us) (?:with )?(?:a (?:bit|little) )?more "
    r"(?:details |information |info )?about (?:what(?:'s| is) (?:happening|going on|wrong)|the (?:issue|problem))|"
    r"\bwe (?:value|appreciate) your (?:feedback|patience|business|understanding|loyalty)\b|"
    r"\b(?:please )?(?:do not|don't) hesitate to (?:contact|reach out)|"
    r"\bfeel free to (?:contact|reach out to) us\b|"
    r"\bi(?:'m| am) (?:so )?glad (?:that )?you(?:'re| are) (?:satisfied|happy with)|"
    r"\bcomment (?:puis|pouvons)-(?:je|nous) vous aider\b|"
    r"\bnous (?:nous )?excusons pour (?:le|la|les|ce|cette|tout|toute) (?:d[ée]sagr[ée]ment|g[êe]ne|inconv[ée]nient)|"
    r"\bch[èe]re? client(?:e)?\b|"
    r"\bnotre [ée]quipe (?:vous )?(?:recontactera|reviendra|contactera)\b|"
    r"\bn'h[ée]sitez pas [àa] nous contacter\b|"
    r"\bmerci de nous avoir contact[ée]s?\b",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(
    r"\[(?:[^\]\n]{0,30}\b)?(?:name|customer|company|product|date|number|order|address|e-?mail|phone|account|"
    r"your|insert|nom|client|entreprise|produit|num[ée]ro|commande|adresse)(?:\b[^\]\n]{0,30})?\]|"
    r"\{\s*(?:customer_?|company_?|product_?|order_?|first_?|your_?)?"
    r"(?:name|date|number|address|e?mail|phone)\s*\}|"
    r"<\s*(?:name|customer|company|product|date|order)[a-z_ ]*>|\b(?:X{4,}|x{4,})\b",
    re.IGNORECASE,
)
JSON_RESIDUE = re.compile(r'^\s*[{\[]\s*"|"\s*[}\]]\s*$|"(?:text|label|rationale|sentiment)"\s*:')
EMOTICON_END = re.compile(r"[:;=8xX]-?\}+$")
AUTHOR_NOT_CUSTOMER = re.compile(r"\b(?:agent|reply|replies|response|answer|assistant|r[ée]ponse|conseiller)\b", re.I)

REASON_AGENT = "agent voice"
REASON_PLACEHOLDER = "placeholder"
REASON_JSON = "JSON residue"


SIGN_OFF = re.compile(
    r"[\s,]*\b(?:best(?: regards| wishes)?|kind regards|warm regards|regards|sincerely(?: yours)?|yours truly|"
    r"thanks(?: again)?|thank you|cheers|love|cordialement|bien [àa] vous|merci)[,.!]?\s*\[[^\]\n]{1,40}\]\s*$",
    re.IGNORECASE,
)


def without_sign_off(text: str) -> str:
    """The text without a closing placeholder signature ("Best regards, [Your Name]"): the
    message before it is what its author wrote, so it is kept rather than rejected."""
    hit = SIGN_OFF.search(text)
    body = text[: hit.start()].rstrip(" \t\n-–—") if hit else ""
    if len(body) < 10:
        return text
    return body if body.endswith((".", "!", "?")) else body + "."


def customer_written(kind_of_text: str) -> bool:
    """Is this kind of text written by a customer or user (not an agent's reply)?"""
    return not AUTHOR_NOT_CUSTOMER.search(kind_of_text)


def artefact(text: str) -> str | None:
    """A placeholder or JSON left in the text, as a reason; None when clean."""
    for pattern, what in ((PLACEHOLDER, REASON_PLACEHOLDER), (JSON_RESIDUE, REASON_JSON)):
        hit = pattern.search(text)
        if hit:
            return f"{what}: {hit.group(0).strip()!r}"
    stripped = text.rstrip()
    emoticon = EMOTICON_END.search(stripped)  # ":}", "=-}"
    if stripped.endswith("}") and not emoticon and stripped.count("{") < stripped.count("}"):
        return f"{REASON_JSON}: {stripped[-12:]!r}"  # a closing brace that nothing opened
    return None


def agent_voice(text: str) -> str | None:
    """A phrase of a company or support agent answering, as a reason; None when not found."""
    hit = AGENT_VOICE.search(text)
    return f"{REASON_AGENT}: {hit.group(0).strip()!r}" if hit else None


def voice_problem(text: str, *, customer: bool = True) -> str | None:
    """Why ``text`` is not what its writer would have written, or None."""
    return artefact(text) or (agent_voice(text) if customer else None)


__all__ = ["AGENT_VOICE", "agent_voice", "artefact", "customer_written", "voice_problem", "without_sign_off"]
