"""Where a request's time goes in the app itself (no sockets, no Gunicorn): pyinstrument over
``--requests`` POST /v1/sentiment calls through Starlette's TestClient, written beside this file.

    flock /tmp/sentiforge-model.lock .venv/bin/python benchmarks/service/profile.py \
        --classifiers /tmp/sfbench/classifiers --model tfidf --texts 1

The classifiers folder is the one run.py trained into (``--classifiers``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--classifiers", type=Path, required=True)
    p.add_argument("--model", default="tfidf")
    p.add_argument("--texts", type=int, default=1)
    p.add_argument("--requests", type=int, default=1000)
    args = p.parse_args()
    from fastapi.testclient import TestClient
    from pyinstrument import Profiler

    from sentiforge.api.main import create_app
    from sentiforge.config import Settings
    from sentiforge.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/p.db"
        with Store(db) as store:
            token = store.create_key("profile", ["predict"])[1]
        settings = Settings(home=Path(tmp), database_url=db, classifiers_dir=args.classifiers, rate_limit_per_minute=0)
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_app(settings)) as client:

            def body(i: int) -> dict[str, object]:
                texts = [f"The food was good but the service was slow ({i}.{j})" for j in range(args.texts)]
                one = {"text": texts[0]} if args.texts == 1 else {"texts": texts}
                return {**one, "model": args.model}

            client.post("/v1/sentiment", json=body(-1), headers=headers).raise_for_status()
            profiler = Profiler(interval=0.0005)
            started = time.perf_counter()
            with profiler:
                for i in range(args.requests):
                    client.post("/v1/sentiment", json=body(i), headers=headers).raise_for_status()
            per = (time.perf_counter() - started) / args.requests * 1000
    out = HERE / f"profile_{args.model}_{args.texts}.txt"
    out.write_text(f"{per:.2f} ms per request (TestClient, in-process)\n" + profiler.output_text(show_all=False))
    print(out.read_text()[:4000])


if __name__ == "__main__":
    main()
