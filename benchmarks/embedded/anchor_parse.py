"""Parse llama-batched-bench's Markdown tables (from anchor.sh's log) into anchor.json.

Top level: {"<batch size>": tokens/s} for the not-shared run (all prompt and generated tokens
over the seconds for all: the column S t/s), which batched.py --anchor reads; "tables" keeps
every row of both runs, "load" the load averages around each run.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

COLUMNS = ("pp", "tg", "b", "n_kv", "t_pp_s", "s_pp_tps", "t_tg_s", "s_tg_tps", "t_s", "s_tps")


def parse(text: str) -> tuple[dict[str, list[dict[str, float]]], dict[str, str]]:
    tables: dict[str, list[dict[str, float]]] = {}
    load: dict[str, str] = {}
    tag = ""
    for line in text.splitlines():
        head = re.match(r"## (\S+) (load_before|load_after) (.*)", line)
        if head:
            tag = head.group(1)
            load[f"{tag}_{head.group(2)}"] = head.group(3)
            tables.setdefault(tag, [])
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == len(COLUMNS) and re.fullmatch(r"\d+", cells[0]):
            tables[tag].append({k: float(v) for k, v in zip(COLUMNS, cells, strict=False)})
    return tables, load


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("log", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--model", default="")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    tables, load = parse(args.log.read_text())
    if not tables.get("not_shared"):
        raise SystemExit(f"no llama-batched-bench table in {args.log}")
    result: dict[str, object] = {str(int(r["b"])): r["s_tps"] for r in tables["not_shared"]}
    result["shared_prompt"] = {str(int(r["b"])): r["s_tps"] for r in tables.get("shared", [])}
    result["per_sample_s"] = {
        tag: {str(int(r["b"])): round(r["t_s"] / r["b"], 2) for r in rows} for tag, rows in tables.items()
    }
    result.update(model=Path(args.model).name, threads=args.threads, load=load, tables=tables)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "tables"}, indent=2))


if __name__ == "__main__":
    main()
