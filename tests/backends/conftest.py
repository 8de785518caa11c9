"""Backends' tests fail on an HTTP session or connection left open (tests/conftest.py's
``no_unclosed_http``), not only warn about it."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fail_on_unclosed_http(no_unclosed_http: None) -> None:
    """Every test here: see tests/conftest.py."""
