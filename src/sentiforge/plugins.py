"""Kinds that other packages add: backends, embedders and classifiers found by name.

A package declares an entry point in the group ``sentiforge.plugins`` naming a function that
registers its kinds (:func:`~sentiforge.backends.register_backend`,
:func:`~sentiforge.embeddings.register_embedder`,
:func:`~sentiforge.classifiers.registry.register_classifier`). The registries call
:func:`load_plugins` before they look a name up, so an installed plugin's kinds are there for the
CLI, the API and the workers without any of them importing it. sentiforge's own fakes are such a
plugin (``sentiforge.testing:register`` in pyproject.toml): nothing in the library imports them.

A plugin that fails to load is reported once as a warning and skipped; the built-in kinds work.
"""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points

GROUP = "sentiforge.plugins"
log = logging.getLogger(__name__)
_loaded = False
_lock = threading.RLock()


def load_plugins() -> None:
    """Run every installed plugin's registration once per process."""
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True  # first: a plugin's registration calls back into the registries
        for entry in entry_points(group=GROUP):
            try:
                entry.load()()
            except Exception as exc:  # a broken third-party plugin must not take the built-ins down
                log.warning("sentiforge plugin %s (%s) did not load: %s", entry.name, entry.value, exc)
