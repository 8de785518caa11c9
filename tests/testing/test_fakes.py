"""Every fake has one home, ``sentiforge.testing``, and the names users know still reach it."""

from __future__ import annotations

import json
import subprocess
import sys

import sentiforge
import sentiforge.testing as home
from sentiforge.backends import from_spec
from sentiforge.classifiers import build_classifier
from sentiforge.embeddings import get_embedder
from sentiforge.labels import get_scheme
from sentiforge.recipe import BackendSpec
from sentiforge.testing import FakeBackend, FakeClassifier, FakeEmbedder, ScriptedAugmenter


def test_the_public_names_are_the_testing_fakes() -> None:
    assert FakeBackend is home.FakeBackend is sentiforge.FakeBackend
    assert FakeBackend.__module__ == "sentiforge.testing.backend"
    assert isinstance(from_spec(BackendSpec(kind="fake")), FakeBackend)
    assert isinstance(get_embedder("fake"), FakeEmbedder)
    assert isinstance(build_classifier("fake", get_scheme("binary")), FakeClassifier)
    assert callable(ScriptedAugmenter())


def test_importing_the_testing_package_loads_no_server_library() -> None:
    code = (
        "import json, sys, sentiforge.testing, sentiforge.backends; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {'uvicorn', 'starlette'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
