"""ADA, aspect-focused augmentation: swap the aspect term for a different one of the same
category (a dish for a dish, a laptop part for a laptop part), keeping context and polarity.

Checked in code: the new term differs from the original and from every other replacement
made for the same seed (see ``aspect_rewrite`` for how that stays true across resume),
the new term is in the output, and the original is gone.
"""

from __future__ import annotations

from typing import ClassVar

from sentiforge.strategies.aspect_rewrite import AspectRewrite, AspectRewriteOptions
from sentiforge.strategies.base import register


@register("ada")
class ADA(AspectRewrite):
    name: ClassVar[str] = "ada"
    template: ClassVar[str] = "ada.j2"
    replaces: ClassVar[bool] = True
    Options = AspectRewriteOptions
