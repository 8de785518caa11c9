"""Celery workers: the app (``worker/app.py``) and its tasks (``worker/tasks.py``), which call
the same application layer as the CLI and the API (``sentiforge.app.shards``).

Importing this package loads Celery; ``import sentiforge`` does not.
"""
