"""Joining the packaged GGUF parts: verified once, reused, rejoined when the cache goes bad.

Fast tests use small fake part modules written to tmp_path; one slow test checks the real
0.5B package."""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path

import pytest

from sentiforge.backends import gguf
from sentiforge.backends.gguf import PACKAGED, PackagedModel, assemble, resolve_model
from sentiforge.config import get_settings
from sentiforge.errors import ConfigError, MissingExtraError

_ids = itertools.count()


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """The folder handed down to the catalogue (SENTIFORGE_MODEL_DIR at an entry point)."""
    return tmp_path / "models"


def fake_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[bytes], *, sha: str | None = None
) -> PackagedModel:
    """Write one importable module per part, each exposing get_part_path() like the real ones."""
    prefix = f"sf_fake_part_{os.getpid()}_{next(_ids)}_"
    src = tmp_path / "parts"
    src.mkdir(exist_ok=True)
    for i, chunk in enumerate(chunks, start=1):
        data = src / f"{prefix}{i}.bin"
        data.write_bytes(chunk)
        (src / f"{prefix}{i}.py").write_text(f"def get_part_path():\n    return {str(data)!r}\n")
    monkeypatch.syspath_prepend(str(src))
    digest = sha or hashlib.sha256(b"".join(chunks)).hexdigest()
    return PackagedModel("fake-model", f"{prefix}.gguf", prefix, len(chunks), digest, "embedded")


@pytest.fixture
def count_joins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every time assemble() goes back to the parts (i.e. joins)."""
    calls: list[str] = []
    real = gguf.part_paths

    def spy(model: PackagedModel) -> list[Path]:
        calls.append(model.name)
        return real(model)

    monkeypatch.setattr(gguf, "part_paths", spy)
    return calls


CHUNKS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


def test_join_concatenates_parts_in_order_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path
) -> None:
    pkg = fake_package(tmp_path, monkeypatch, CHUNKS)
    path = assemble(pkg, model_dir)
    assert path.parent == model_dir
    assert path.read_bytes() == b"".join(CHUNKS)
    assert path.with_suffix(".verified").read_text().split()[0] == pkg.sha256
    assert path.stat().st_mode & 0o044 == 0o044  # readable by others sharing the cache
    assert not list(model_dir.glob(".joining-*"))


def test_second_call_reuses_without_rejoining(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path, count_joins: list[str]
) -> None:
    pkg = fake_package(tmp_path, monkeypatch, CHUNKS)
    first = assemble(pkg, model_dir)
    mtime = first.stat().st_mtime_ns
    second = assemble(pkg, model_dir)
    assert first == second and count_joins == ["fake-model"]
    assert second.stat().st_mtime_ns == mtime


def test_wrong_sha256_is_refused_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path
) -> None:
    pkg = fake_package(tmp_path, monkeypatch, CHUNKS, sha="0" * 64)
    with pytest.raises(ConfigError, match=r"expected 0{64}.*pip install --force-reinstall 'sentiforge\[embedded\]'"):
        assemble(pkg, model_dir)
    assert list(model_dir.iterdir()) == []


def test_missing_part_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path) -> None:
    pkg = fake_package(tmp_path, monkeypatch, CHUNKS)
    broken = PackagedModel(pkg.name, pkg.filename, pkg.module_prefix, 4, pkg.sha256, "fast")
    with pytest.raises(MissingExtraError, match=r"sentiforge\[fast\]") as info:
        assemble(broken, model_dir)
    assert info.value.module == f"{pkg.module_prefix}4"


def test_truncated_cache_file_is_detected_and_rejoined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path, count_joins: list[str]
) -> None:
    pkg = fake_package(tmp_path, monkeypatch, CHUNKS)
    path = assemble(pkg, model_dir)
    with path.open("r+b") as f:
        f.truncate(100)
    assert assemble(pkg, model_dir).read_bytes() == b"".join(CHUNKS)
    assert len(count_joins) == 2


def test_rewritten_cache_file_is_detected_and_rejoined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path, count_joins: list[str]
) -> None:
    pkg = fake_package(tmp_path, monkeypatch, CHUNKS)
    path = assemble(pkg, model_dir)
    st = path.stat()
    path.write_bytes(b"X" * st.st_size)  # same size, different bytes
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a later write, even within one clock tick
    assert assemble(pkg, model_dir).read_bytes() == b"".join(CHUNKS)
    assert len(count_joins) == 2


def test_old_marker_is_reverified_once_without_rejoining(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path, count_joins: list[str]
) -> None:
    pkg = fake_package(tmp_path, monkeypatch, CHUNKS)
    path = assemble(pkg, model_dir)
    marker = path.with_suffix(".verified")
    marker.write_text(pkg.sha256)  # the marker format of earlier builds: the hash alone
    assert assemble(pkg, model_dir) == path and len(count_joins) == 1
    assert len(marker.read_text().split()) == 3


def test_resolve_model_paths_and_names(tmp_path: Path) -> None:
    user = tmp_path / "mine.gguf"
    user.write_bytes(b"GGUF")
    assert resolve_model(str(user)) == user
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(ConfigError, match=r"unknown embedded model 'gpt-9'.*qwen2\.5-0\.5b"):
        resolve_model("gpt-9")


@pytest.mark.slow
def test_real_fast_model_package_joins_to_its_published_hash() -> None:
    path = resolve_model("qwen2.5-0.5b", get_settings().model_dir)
    assert path.name == PACKAGED["qwen2.5-0.5b"].filename
    assert gguf._sha256(path) == PACKAGED["qwen2.5-0.5b"].sha256
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
