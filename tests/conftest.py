"""Test-wide fixtures: a temporary SENTIFORGE_HOME, and no network beyond loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise OSError(f"tests may only connect to loopback, not {host}")
    return _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def sentiforge_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own home (database, cache); the joined GGUF models are shared."""
    from sentiforge.config import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("SENTIFORGE_HOME", str(home))
    monkeypatch.setenv(
        "SENTIFORGE_MODEL_DIR", os.environ.get("SENTIFORGE_MODEL_DIR", str(Path.home() / ".sentiforge" / "models"))
    )
    monkeypatch.delenv("SENTIFORGE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def datasets_dir() -> Path:
    """The real datasets: the copy packaged with sentiforge unless SENTIFORGE_DATASETS names another."""
    from sentiforge.io.datasets import datasets_root

    return datasets_root()
