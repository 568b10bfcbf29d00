"""Offline preview cost per stack against its import floor.

For each stack: the wall time of a fresh `mlops-platform preview --stack S` process; the import floor, a
fresh interpreter importing exactly the modules that preview had imported; and their ratio (target ≤ 1.3).
Median of --runs runs (default 3).

    uv run python bench/preview.py [--runs N] [--stacks dev staging prod]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent

PREVIEW = """
import json, sys
from mlops_platform.infra.tooling.cli import main
code = main(["preview", "--stack", sys.argv[1]])
json.dump(sorted(m for m in sys.modules if m != "__main__"), open(sys.argv[2], "w"))
sys.exit(code)
"""

IMPORT_FLOOR = """
import importlib, json, sys
for name in json.load(open(sys.argv[1])):
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


def timed(args: list[str]) -> float:
    """Wall time of a fresh Python process, in seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(stack: str, runs: int) -> tuple[float, float, int]:
    """(preview seconds, import-floor seconds, modules imported), medians over `runs`."""
    with tempfile.TemporaryDirectory() as tmp:
        modules = Path(tmp) / "modules.json"
        previews = [timed(["-c", PREVIEW, stack, str(modules)]) for _ in range(runs)]
        floors = [timed(["-c", IMPORT_FLOOR, str(modules)]) for _ in range(runs)]
        count = len(json.loads(modules.read_text()))
    return statistics.median(previews), statistics.median(floors), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stacks", nargs="+", default=["dev", "staging", "prod"])
    args = parser.parse_args()

    table = Table(title=f"offline preview vs import floor (median of {args.runs})")
    for column in ("stack", "preview s", "import floor s", "ratio", "modules", "target ≤ 1.3"):
        table.add_column(column, justify="right")
    for stack in args.stacks:
        preview, floor, modules = measure(stack, args.runs)
        ratio = preview / floor
        table.add_row(
            stack, f"{preview:.2f}", f"{floor:.2f}", f"{ratio:.2f}", str(modules), "yes" if ratio <= 1.3 else "NO"
        )
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
