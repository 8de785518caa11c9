"""One error hierarchy for the whole package.

    SentiforgeError                      base: catch this to catch everything we raise
    ├── ConfigError                      bad settings, recipe or CLI arguments
    │   └── MissingExtraError            optional dependency not installed (names the pip command)
    ├── LabelError                       unknown label or label scheme, malformed label value
    ├── TemplateError                    a prompt template that is missing or does not render
    ├── DataError                        malformed input file, wrong column mapping, empty file
    ├── StoreError                       database problems (cannot open, migrate, write)
    │   ├── NotFoundError                no such dataset, job, sample, review item, model or key
    │   └── ConflictError                the name exists already, or the state forbids the action
    │       └── JobConflictError         the job is running elsewhere, or its status forbids the action
    ├── BackendError                     an LLM backend failed
    │   ├── TransientBackendError        worth retrying: 429, 5xx, timeout, connection reset
    │   │   └── RateLimitedError         429, carries retry_after seconds when the server said so
    │   ├── PermanentBackendError        not worth retrying: 400, 401, 404
    │   ├── InvalidOutputError           the model answered, but not with what we asked for
    │   └── DeferredRequestError         not answered yet: the request goes into a provider batch
    ├── BudgetExceededError              the job's cost cap would be passed; the job stops cleanly
    └── QualityError                     a quality check could not run (not: a sample failed it)

Every message says what went wrong *and* what to do about it.
"""

from __future__ import annotations


class SentiforgeError(Exception):
    """Base class of every error sentiforge raises on purpose."""


class ConfigError(SentiforgeError):
    pass


class MissingExtraError(ConfigError, ImportError):
    """An optional dependency is missing; the message names the install command."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the '{module}' package, which is not installed. "
            f"Install it with: pip install 'sentiforge[{extra}]'"
        )
        self.extra = extra
        self.module = module


class LabelError(SentiforgeError):
    pass


class TemplateError(SentiforgeError):
    pass


class DataError(SentiforgeError):
    pass


class StoreError(SentiforgeError):
    pass


class NotFoundError(StoreError):
    """What was asked for does not exist (the HTTP API answers 404)."""


class ConflictError(StoreError):
    """The name is taken, or the current state forbids the action (the HTTP API answers 409)."""


class JobConflictError(ConflictError):
    """A job is already running in another process, or its status forbids what was asked."""


class BackendError(SentiforgeError):
    pass


class TransientBackendError(BackendError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitedError(TransientBackendError):
    pass


class PermanentBackendError(BackendError):
    pass


class InvalidOutputError(BackendError):
    """The model's answer could not be parsed or validated."""

    def __init__(self, message: str, *, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


class DeferredRequestError(BackendError):
    """Raised only inside a batch job's collection pass (sentiforge/engine/batching.py): the request is
    not in the response cache, so it is written into the next provider batch instead of sent."""


class BudgetExceededError(SentiforgeError):
    pass


class QualityError(SentiforgeError):
    pass


def require(module: str, *, feature: str, extra: str) -> object:
    """Import an optional dependency or raise MissingExtraError naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(feature, extra, module.split(".")[0]) from exc
