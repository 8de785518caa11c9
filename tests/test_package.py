"""The package's shape: a light import, and modules and functions small enough to read."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "sentiforge"
HEAVY = ("torch", "llama_cpp", "sklearn", "pandas", "sentence_transformers", "fastapi", "celery")


def test_import_sentiforge_loads_no_heavy_library() -> None:
    code = (
        "import json, sys, sentiforge, sentiforge.app.jobs, sentiforge.app.requests, sentiforge.cli; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


def test_no_module_over_500_lines_and_no_function_over_50() -> None:
    too_long = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 500:
            too_long.append(f"{path.relative_to(SRC)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                lines = node.end_lineno - node.lineno + 1
                if lines > 50:
                    too_long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}() {lines} lines")
    assert too_long == []
