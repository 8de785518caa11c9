"""The review page: one HTML shell, a script and a stylesheet, served by the app (no CDN)."""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).parent
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
