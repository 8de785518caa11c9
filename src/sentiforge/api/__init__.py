"""The HTTP API (FastAPI, under /v1): the same application layer as the CLI, over HTTP.

    main.py      builds the app (create_app) and nothing else
    deps.py      Annotated dependencies: the store, the settings, the caller's key and scope
    errors.py    the error hierarchy as HTTP answers (404, 409, 422, ...), always JSON with a message
    limits.py    request body limits (413) and per-key request limits (429 with Retry-After)
    metrics.py   Prometheus metrics (multiprocess-safe under Gunicorn)
    runner.py    jobs started over HTTP, run in the background of the server process
    schemas.py   what the API takes and answers besides the store's public schemas
    routes/      one router per resource

Nothing here is imported by ``import sentiforge``; FastAPI loads only when the service starts.
"""
