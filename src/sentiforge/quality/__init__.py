"""The quality gate: every sample gets a record (checks, score, reason); nothing is dropped
silently. Heavy dependencies load only inside the checks that need them."""

from sentiforge.quality.base import Check, CheckResult, Verdict
from sentiforge.quality.config import QualityConfig

__all__ = ["Check", "CheckResult", "QualityConfig", "Verdict"]
