"""CADA: ADA and CDA at once - a new aspect term of the same category *and* a paraphrased
context, with both sets of checks (``aspect_rewrite``), plus one of its own: the output must be
more than the seed with the term substituted, since a model asked for both often only swaps.
"""

from __future__ import annotations

import re
from typing import ClassVar

from sentiforge.samples import normalize_text
from sentiforge.strategies.aspect_rewrite import AspectRewrite, AspectRewriteOptions
from sentiforge.strategies.base import register
from sentiforge.strategies.seeded import Rejection


def substituted(text: str, term: str, new_term: str) -> str:
    """The text with every whole-word occurrence of ``term`` replaced by ``new_term``."""
    return re.sub(r"(?<!\w)" + re.escape(term.strip()) + r"(?!\w)", new_term, text, flags=re.IGNORECASE)


@register("cada")
class CADA(AspectRewrite):
    name: ClassVar[str] = "cada"
    template: ClassVar[str] = "cada.j2"
    replaces: ClassVar[bool] = True
    Options = AspectRewriteOptions

    def check_terms(self, text: str, seed_text: str, term: str, new_term: str | None) -> None:
        super().check_terms(text, seed_text, term, new_term)
        if new_term is not None and normalize_text(text) == normalize_text(substituted(seed_text, term, new_term)):
            raise Rejection("unchanged", "only the aspect was replaced; the context was not paraphrased", text)
