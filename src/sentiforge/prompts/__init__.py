"""Prompt templates: Jinja2 files a user can copy and edit.

Lookup order: the user's templates folder (``SENTIFORGE_TEMPLATES_DIR`` or ``--templates``),
then the packaged ``templates/``. A language's templates live in a subfolder (``fr/``) and
fall back to the English ones. Every rendering carries the template's name and the hash of
its source, which go into each sample's provenance.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from sentiforge.errors import TemplateError

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    text: str
    template: str
    template_hash: str


class TrackedAttributes(dict[str, Any]):
    """Prompt attributes that remember which names a template read (into a shared ``used`` set),
    so a job can warn about an attribute that no template uses."""

    def __init__(self, values: dict[str, Any], used: set[str]) -> None:
        super().__init__(values)
        self.used = used

    def __getitem__(self, key: str) -> Any:
        self.used.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return super().get(key, default)

    def items(self) -> Any:
        self.used.update(self.keys())
        return super().items()


class PromptLibrary:
    def __init__(self, user_dir: str | Path | None = None) -> None:
        self.user_dir = Path(user_dir) if user_dir else None
        dirs = [str(user_dir)] if user_dir else []
        dirs.append(str(PACKAGE_TEMPLATES))
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(dirs),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        self._hashes: dict[str, str] = {}

    def resolve(self, name: str, language: str = "en") -> str:
        """The template file for a language: ``fr/generate.j2`` if it exists, else ``generate.j2``."""
        if language != "en":
            candidate = f"{language}/{name}"
            try:
                self.env.get_template(candidate)
                return candidate
            except jinja2.TemplateNotFound:
                pass
        return name

    def render(self, name: str, *, language: str = "en", **context: Any) -> Rendered:
        resolved = self.resolve(name, language)
        try:
            template = self.env.get_template(resolved)
            text = template.render(language=language, **context).strip()
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(
                f"prompt template '{resolved}' not found in {self.env.loader.searchpath}"  # type: ignore[union-attr]
            ) from exc
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"prompt template '{resolved}' does not render: {exc.message}") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"prompt template '{resolved}' has a syntax error at line {exc.lineno}: {exc.message}"
            ) from exc
        if not text:
            raise TemplateError(f"prompt template '{resolved}' rendered to an empty prompt")
        return Rendered(text=text, template=resolved, template_hash=self.source_hash(resolved))

    def listing(self) -> list[tuple[str, str]]:
        """Every template name, with the folder it is read from (the user's or the package)."""
        names = {str(p.relative_to(PACKAGE_TEMPLATES)) for p in PACKAGE_TEMPLATES.rglob("*.j2")}
        if self.user_dir and self.user_dir.is_dir():
            names |= {str(p.relative_to(self.user_dir)) for p in self.user_dir.rglob("*.j2")}
        return [
            (n, str(self.user_dir) if self.user_dir and (self.user_dir / n).is_file() else "package")
            for n in sorted(names)
        ]

    def origin(self, name: str) -> str:
        """Where a resolved template is read from, for messages."""
        if self.user_dir and (self.user_dir / name).is_file():
            return f"{name} (in {self.user_dir})"
        return f"{name} (packaged)"

    def source_hash(self, name: str) -> str:
        if name not in self._hashes:
            loader = self.env.loader
            assert loader is not None
            source, _, _ = loader.get_source(self.env, name)
            self._hashes[name] = hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]
        return self._hashes[name]


def copy_templates(dest: str | Path) -> list[Path]:
    """Copy the packaged templates into ``dest`` for a user to edit; existing files are kept."""
    import shutil

    out = []
    for src in PACKAGE_TEMPLATES.rglob("*.j2"):
        target = Path(dest) / src.relative_to(PACKAGE_TEMPLATES)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            shutil.copyfile(src, target)
            out.append(target)
    return out
