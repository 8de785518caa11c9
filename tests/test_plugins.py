"""Plugins: kinds registered from ``sentiforge.plugins`` entry points, sentiforge's fakes first."""

from __future__ import annotations

import logging
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

import sentiforge.plugins as plugins


def test_the_fakes_are_an_installed_plugin_found_without_importing_them() -> None:
    """A fresh process that never imports sentiforge.testing can still name every fake: the
    registries load the entry point. The CLI, the API app and the worker do not import it."""
    assert [e.value for e in entry_points(group=plugins.GROUP) if e.name == "fakes"] == ["sentiforge.testing:register"]
    code = """
import sys
import sentiforge.api.main, sentiforge.cli, sentiforge.worker.app
assert "sentiforge.testing" not in sys.modules, "an entry point imported the fakes"
from sentiforge.backend_spec import FakeSpec
from sentiforge.backends import from_spec
from sentiforge.classifiers.registry import build_classifier
from sentiforge.embeddings import get_embedder
from sentiforge.labels import get_scheme
print(type(from_spec(FakeSpec(kind="fake"))).__name__, get_embedder("fake").name,
      build_classifier("fake", get_scheme("binary")).kind)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["FakeBackend", "fake", "fake"]


class _Broken:
    name, value = "broken", "nowhere:register"

    def load(self) -> object:
        raise ImportError("No module named 'nowhere'")


class _Adds:
    name, value = "adds", "tests:adds"

    def load(self) -> object:
        from sentiforge.embeddings import register_embedder
        from sentiforge.testing.embedder import FakeEmbedder

        return lambda: register_embedder("plugin-made", FakeEmbedder)


def test_a_broken_plugin_is_logged_and_skipped_and_the_others_still_register(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sentiforge.embeddings import embedder_names, get_embedder

    monkeypatch.setattr(plugins, "_loaded", False)
    monkeypatch.setattr(plugins, "entry_points", lambda group: [_Broken(), _Adds()] if group == plugins.GROUP else [])
    with caplog.at_level(logging.WARNING, logger="sentiforge.plugins"):
        assert "plugin-made" in embedder_names()
    assert "plugin broken (nowhere:register) did not load: No module named 'nowhere'" in caplog.text
    assert get_embedder("plugin-made").encode(["a text"]).shape[0] == 1
    plugins.load_plugins()  # once per process: not run again
    assert caplog.text.count("did not load") == 1
