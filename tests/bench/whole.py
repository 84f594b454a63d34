"""`make bench-whole`: the commands as a user runs them, each a new process, timed whole.

On a root of N pages caught up, per sample: ``run`` with nothing new, ``run`` after one new
page, ``run`` after 1 % new pages, a ``query`` on gold (Spark engine, no ``serve``), and
``demo`` on a root of its own. Medians over ``--repeat`` samples. ``--tree DIR`` adds
another checkout of the project (its own root, the same pages, the same interpreter),
run in turn with this one, sample by sample, so drift moves both alike; the ratio is
taken pair by pair.

    .venv/bin/python -m tests.bench.whole --pages 3000 --repeat 5
    git worktree add /tmp/before <commit>
    .venv/bin/python -m tests.bench.whole --tree /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from checkpoints_config import local
from tests.bench.generate import generate

HERE = Path(__file__).resolve().parents[2]
QUERY = "SELECT count(*) FROM omdb_releases_gold"


def command(tree: Path, *args: str) -> float:
    """Seconds that ``omdb-lakehouse *args`` takes from ``tree``, as a new process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "streaming.cli", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds


class Subject:
    """One checkout and its root: N pages landed and caught up."""

    def __init__(self, tree: Path, pages: int, out: Path) -> None:
        self.tree = tree
        self.root = Path(tempfile.mkdtemp(prefix="bench-whole-", dir=out))
        self.landing = Path(local(self.root).landing_path)
        self.page = pages
        generate(self.landing, pages, seed=7)
        command(tree, "run", "--root", str(self.root))

    def run_after(self, new: int) -> float:
        generate(self.landing, new, seed=7, first_page=self.page)
        self.page += new
        return command(self.tree, "run", "--root", str(self.root))

    def sample(self, one_percent: int) -> dict[str, float]:
        demo_root = Path(tempfile.mkdtemp(prefix="bench-demo-", dir=self.root.parent))
        try:
            demo = command(self.tree, "demo", "--root", str(demo_root))
        finally:
            shutil.rmtree(demo_root, ignore_errors=True)
        return {
            "run, nothing new": command(self.tree, "run", "--root", str(self.root)),
            "run after 1 page": self.run_after(1),
            f"run after {one_percent} pages": self.run_after(one_percent),
            "query": command(self.tree, "query", QUERY, "--root", str(self.root)),
            "demo": demo,
        }


def table(results: dict[str, list[dict[str, float]]]) -> str:
    """Medians per scenario and tree, and this tree over each other one, pair by pair."""
    names = list(results)
    scenarios = list(results[names[0]][0])
    header = [*names, *(f"now / {n}" for n in names[1:])]
    lines = ["| scenario | " + " | ".join(header) + " |"]
    lines.append("| --- " * (1 + 2 * len(names) - 1) + "|")
    for scenario in scenarios:
        cells = [f"{statistics.median(s[scenario] for s in results[n]):.2f} s" for n in names]
        for other in names[1:]:
            pairs = zip(results[names[0]], results[other], strict=True)
            cells.append(f"{statistics.median(a[scenario] / b[scenario] for a, b in pairs):.2f}")
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3000, help="pages of history")
    parser.add_argument("--repeat", type=int, default=5, help="samples (medians)")
    parser.add_argument(
        "--tree", action="append", default=[], help="another checkout to compare (repeatable)"
    )
    parser.add_argument("--out", default="bench-results", help="folder for the JSON results")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    trees = {"now": HERE, **{tree: Path(tree).resolve() for tree in args.tree}}
    for tree in trees.values():
        if not (tree / "streaming").is_dir():
            raise SystemExit(f"--tree {tree}: not a checkout of this project")
    subjects = {name: Subject(tree, args.pages, out) for name, tree in trees.items()}
    one_percent = max(args.pages // 100, 1)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in subjects}
    for n in range(args.repeat):
        for name, subject in subjects.items():  # in turn: drift moves all alike
            results[name].append(subject.sample(one_percent))
            print(f"sample {n + 1}/{args.repeat} {name}: {json.dumps(results[name][-1])}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"whole-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
