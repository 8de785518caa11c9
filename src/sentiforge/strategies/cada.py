"""CADA: ADA and CDA at once - a new aspect term of the same category *and* a paraphrased
context, with both sets of checks (plus: the output is more than the seed with the term
substituted).
"""

from __future__ import annotations

from typing import ClassVar

from sentiforge.strategies._aspect_rewrite import AspectRewrite, AspectRewriteOptions
from sentiforge.strategies.base import register


@register("cada")
class CADA(AspectRewrite):
    name: ClassVar[str] = "cada"
    template: ClassVar[str] = "cada.j2"
    replaces: ClassVar[bool] = True
    paraphrases: ClassVar[bool] = True
    Options = AspectRewriteOptions
