"""Reads the main job's dataset after benchmarks/main_job/run.sh: counts, requests, the voice
check over every accepted text, the judge's calibration, and the texts themselves."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from sentiforge.config import get_settings
from sentiforge.quality.voice import voice_problem
from sentiforge.store import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--load-before", default="")
    ap.add_argument("--load-after", default="")
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--dataset", default="support-3class")
    args = ap.parse_args()
    settings = get_settings()
    with Store(settings.database_url, pool_size=settings.db_pool_size) as store:
        dataset = store.dataset_id(args.dataset)
        job = next(j for j in store.list_jobs() if j.dataset_id == dataset and j.kind == "generate")
        accepted = store.samples(dataset)
        rejected = store.samples(dataset, status="rejected")
        events = [{"kind": e.kind, **(e.data or {})} for e in store.job_events(job.id) if e.kind != "started"]
    reasons = Counter((s.reason or "").split(" (", 1)[0].split(":", 1)[0] for s in rejected)
    voice = [{"text": s.text, "problem": voice_problem(s.text)} for s in accepted if voice_problem(s.text)]
    result = {
        "seconds_end_to_end": round(args.seconds, 1),
        "load_before": args.load_before,
        "load_after": args.load_after,
        "accepted": len(accepted),
        "labels": dict(Counter(str(s.label) for s in accepted)),
        "job_status": job.status,
        "generate_requests": job.requests,
        "requests_per_accepted": round(job.requests / max(1, len(accepted)), 2),
        "rejected_in_generation": job.rejected,
        "rejections_by_reason": dict(reasons),
        "voice_problems_in_accepted": voice,
        "events": events,
        "texts": [{"label": s.label, "text": s.text, **s.attributes} for s in accepted],
        "log_tail": args.log.read_text(errors="replace")[-1500:],
    }
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("texts", "log_tail")}, indent=1))


if __name__ == "__main__":
    main()
