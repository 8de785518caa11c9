"""The workbench's templates (Jinja2, rendered by ``api/workbench``; ``base.html`` and
``_nav.html`` are the shared layout) and static files (``workbench.css`` for every page, a
small script per page that needs one), served by the app: no CDN, no build step."""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).parent
TEMPLATES = WEB_DIR / "templates"
STATIC = WEB_DIR / "static"
