"""The application layer: the one set of operations the CLI, the HTTP API and the workers call.

requests.py   what a user asks for, as data (GenerateRequest, AugmentRequest, ...)
jobs.py       create, run, resume, cancel and inspect jobs
quality.py    run the quality gate
models.py     train classifiers, evaluate (TSTR)
"""
