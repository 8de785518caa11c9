"""CDA, context-focused augmentation: paraphrase the context around an aspect.

The aspect term must come back verbatim and the polarity unchanged; both are checked in
code (the term by a word-boundary match, the polarity by a label-constrained judge that
must read the output as it reads the seed). Failures are kept as rejected samples naming
the check.
"""

from __future__ import annotations

from typing import ClassVar

from sentiforge.strategies.aspect_rewrite import AspectRewrite, AspectRewriteOptions
from sentiforge.strategies.base import register


@register("cda")
class CDA(AspectRewrite):
    name: ClassVar[str] = "cda"
    template: ClassVar[str] = "cda.j2"
    Options = AspectRewriteOptions
