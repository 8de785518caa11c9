"""Debian's Apertium as a deterministic translation engine (optional).

Install on Debian/Ubuntu: ``apt-get install apertium apertium-eng-spa apertium-fr-es``
(English<->Spanish, French<->Spanish; there is no direct English-French pair, so go
through Spanish: route ``es`` or ``es>fr``). Pairs are found with ``apertium -l``; mode
names mix two- and three-letter codes (``eng-spa``, ``fr-es``), so both are mapped.
"""

from __future__ import annotations

import asyncio
import functools
import shutil
import subprocess

from sentiforge.errors import BackendError, ConfigError

INSTALL = "apt-get install apertium apertium-eng-spa apertium-fr-es"
ISO3 = {
    "eng": "en", "spa": "es", "fra": "fr", "cat": "ca", "por": "pt", "ita": "it", "glg": "gl", "epo": "eo",
    "eus": "eu", "oci": "oc", "arg": "an", "ast": "ast", "nld": "nl", "afr": "af", "dan": "da", "nor": "no",
    "nob": "nb", "nno": "nn", "swe": "sv", "isl": "is", "rus": "ru", "ukr": "uk", "bel": "be", "ron": "ro",
}  # fmt: skip
TIMEOUT = 60.0


def require_binary() -> str:
    path = shutil.which("apertium")
    if path is None:
        raise ConfigError(
            f"the 'apertium' translation engine is not installed; install it with: {INSTALL} (or use engine 'llm')"
        )
    return path


def _code(part: str) -> str:
    return ISO3.get(part, part)


@functools.lru_cache(maxsize=1)
def pairs() -> dict[tuple[str, str], str]:
    """(source, target) two-letter codes -> Apertium mode name, for the installed pairs."""
    binary = require_binary()
    listing = subprocess.run([binary, "-l"], capture_output=True, text=True, timeout=TIMEOUT, check=False).stdout
    out: dict[tuple[str, str], str] = {}
    for line in listing.split():
        mode = line.strip()
        if not mode or mode.count("-") != 1 or "_" in mode:
            continue  # skip variants such as spa-eng_US and eco-es-fr
        source, target = mode.split("-")
        out.setdefault((_code(source), _code(target)), mode)
    return out


def mode_for(source: str, target: str) -> str:
    available = pairs()
    mode = available.get((source, target))
    if mode is None:
        listed = ", ".join(f"{a}->{b}" for a, b in sorted(available)) or "none"
        raise ConfigError(
            f"Apertium has no {source}->{target} pair installed (installed: {listed}); pick a route "
            f"through installed pairs (e.g. 'es' from English) or install the pair's Debian package"
        )
    return mode


def translate_sync(text: str, source: str, target: str) -> str:
    mode = mode_for(source, target)
    try:
        done = subprocess.run(
            [require_binary(), "-u", mode], input=text, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BackendError(f"apertium {mode} took longer than {TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        raise BackendError(f"apertium {mode} failed ({done.returncode}): {done.stderr.strip()[:200]}")
    return done.stdout.strip()


async def translate(text: str, source: str, target: str) -> str:
    return await asyncio.to_thread(translate_sync, text, source, target)
