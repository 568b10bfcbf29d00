"""Offline preview cost: per stack against its import floor, at 10x prod scale, and per resource against bare Pulumi.

Every figure is a fresh process, timed from outside (wall clock; CPU and peak RSS from the kernel's accounting
of that one child, `os.wait4`):

- each stack: `mlops-platform preview --stack S` (the console script's entry point) against its import floor,
  a fresh default interpreter importing exactly the modules that preview imported (target ratio <= 1.3), and
  against a strict floor: the same imports under the preview's own process setup (collector held, no
  teardown), so what is left above it is the program's own work;
- 10x prod: prod's stack file with every list of named entries (teams, models, endpoints, pipelines, ...)
  multiplied, written to a temporary stacks folder; time, peak RSS and CPU per resource against prod
  (targets: per resource <= 1.1x, peak RSS <= 1.5x);
- bare Pulumi: a program of N plain `aws.s3.Bucket`s (N = prod's resource count) under the same mocks and
  the same process setup, so the CPU per resource of prod's program (settings, components, registration
  and recording; the CLI's tree and reports are not in it) compares with Pulumi's own (target <= 1.5x).

CPU per resource is measured warm: the program runs 4 times in one process and the least CPU of runs 2-4 is
divided by its resources (run 1 pays the imports). The cold figure beside it, process CPU minus the strict
floor's, is the difference of two noisy numbers and only a cross-check.

Program and floors run in turn (A B C A B C ...) and ratios are taken round by round, so a machine whose load
drifts still gives a fair ratio; medians of --runs rounds are printed. On a shared machine read the CPU
figures too: CPU seconds move much less with load than wall seconds.

    uv run --no-sync python bench/preview.py [--runs 5] [--stacks dev staging prod] [--factor 10]
                                             [--collector held|default|both]

`--collector default` runs everything with `MLOPS_PLATFORM_GC=default` (CPython's default collector, as before
infra/collector.py); `both` prints the two, which is how the memory bound in infra/collector.py was measured.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
STACKS = REPO / "stacks"
CLI = [sys.executable, "-c", "from mlops_platform.infra.tooling.cli import run; run()"]
"""The console script's own entry point (`mlops-platform`), started the way the script starts it."""

PROBE = """
import json, sys
from mlops_platform.infra.tooling.cli import main
modules, plan = sys.argv[1], sys.argv[2]
code = main(["preview", *sys.argv[3:], "--json", plan])
json.dump(sorted(m for m in sys.modules if m != "__main__"), open(modules, "w"))
sys.exit(code)
"""
"""One untimed run per program: which modules it imports (for its floor) and how many resources it plans."""

BARE = """
import json, sys
import pulumi_aws as aws
from mlops_platform.infra import collector
from mlops_platform.infra.tooling.offline import record

collector.hold()
count = int(sys.argv[1])
plan = record(lambda: [aws.s3.Bucket(f"bucket-{i}") for i in range(count)] and None, stack="bench")
if len(sys.argv) > 2:
    json.dump(sorted(m for m in sys.modules if m != "__main__"), open(sys.argv[2], "w"))
    json.dump({"resources": [None] * len(plan.resources)}, open(sys.argv[3], "w"))
collector.exit_now(0)
"""

FLOOR = """
import importlib, json, sys
for name in json.load(open(sys.argv[1])):
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""
"""The import floor: a fresh, default interpreter importing exactly the modules the program imported."""

STRICT_FLOOR = """
import gc, importlib, json, os, sys
if os.environ.get("MLOPS_PLATFORM_GC") != "default":
    gc.freeze(); gc.disable()
for name in json.load(open(sys.argv[1])):
    try:
        importlib.import_module(name)
    except Exception:
        pass
sys.stdout.flush()
os._exit(0)
"""
"""The same imports under the program's own process setup (collector held, no teardown): what is left above
it is the program's work, which is what the per-resource figures divide."""


WARM = """
import contextlib, io, json, sys, time
from mlops_platform.infra import collector
collector.hold()
out, kind, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
if kind == "bare":
    import pulumi_aws as aws
    from mlops_platform.infra.tooling.offline import record
    def once():
        record(lambda: [aws.s3.Bucket(f"bucket-{i}") for i in range(int(rest[0]))] and None, stack="bench")
elif kind == "program":
    from mlops_platform.infra.tooling.offline import preview_stack
    def once():
        preview_stack(rest[0])
else:
    from mlops_platform.infra.tooling.cli import main
    def once():
        with contextlib.redirect_stdout(io.StringIO()):
            main(["preview", *rest])
samples = []
for _ in range(4):
    started = time.process_time()
    once()
    samples.append(time.process_time() - started)
json.dump(samples[1:], open(out, "w"))
collector.exit_now(0)
"""
"""The same program run 4 times in one process; the CPU of runs 2-4 (imports and first-use costs paid by run 1)
is the cost per resource with nothing else in it, for comparing programs of different sizes. Kinds: `preview`
(the whole CLI command: program, tree, verdicts, cost), `program` (the stack's program under the mocks,
recorded: what the bare replica is compared with), `bare` (N plain buckets under the same mocks)."""


def warm_ms_per_resource(kind: str, args: list[str], resources: int, env: dict[str, str] | None) -> float:
    """Least CPU milliseconds per resource over the warm runs (the least disturbed by other load)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "warm.json"
        subprocess.run([sys.executable, "-c", WARM, str(out), kind, *args], cwd=REPO, check=True, env=env)
        return 1000 * min(json.loads(out.read_text())) / resources


@dataclass
class Sample:
    """One finished child process."""

    wall: float
    cpu: float
    peak_mb: float


def run_child(args: list[str], env: dict[str, str] | None = None) -> Sample:
    """Run one fresh process to completion; its wall time, CPU (user + system) and peak RSS."""
    started = time.perf_counter()
    child = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 3):  # 3: a policy verdict, still a full preview
        raise SystemExit(f"{' '.join(args[:4])} ... exited {child.returncode}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


@dataclass
class Result:
    """Medians over the runs of a program and its import floors."""

    name: str
    resources: int
    modules: int
    program: Sample
    floor: Sample
    strict: Sample
    wall_ratio: float
    strict_ratio: float
    cpu_ratio: float
    strict_cpu_ratio: float

    @property
    def ms_per_resource(self) -> float:
        """CPU milliseconds per resource above the strict import floor."""
        return 1000 * max(self.program.cpu - self.strict.cpu, 0.0) / max(self.resources, 1)


def _median(samples: list[Sample]) -> Sample:
    return Sample(*(statistics.median(getattr(s, f) for s in samples) for f in ("wall", "cpu", "peak_mb")))


def _measure_preview(name: str, args: list[str], runs: int, env: dict[str, str] | None) -> Result:
    program = [*CLI, "preview", *args]
    with tempfile.TemporaryDirectory() as tmp:
        modules, plan = Path(tmp) / "modules.json", Path(tmp) / "plan.json"
        subprocess.run(
            [sys.executable, "-c", PROBE, str(modules), str(plan), *args],
            cwd=REPO,
            check=False,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        if not plan.is_file():
            raise SystemExit(f"preview {' '.join(args)} failed; run it by hand to see why")
        return _pairs(name, program, modules, plan, runs, env)


def bare(count: int, runs: int, env: dict[str, str] | None = None) -> Result:
    """`count` plain S3 buckets under the same mocks and process setup."""
    program = [sys.executable, "-c", BARE, str(count)]
    with tempfile.TemporaryDirectory() as tmp:
        modules, plan = Path(tmp) / "modules.json", Path(tmp) / "plan.json"
        subprocess.run([*program, str(modules), str(plan)], cwd=REPO, check=True, env=env)
        return _pairs(f"bare Pulumi: {count} aws.s3.Bucket", program, modules, plan, runs, env)


def _pairs(name: str, program: list[str], modules: Path, plan: Path, runs: int, env: dict[str, str] | None) -> Result:
    resources = len(json.loads(plan.read_text())["resources"])
    imported = len(json.loads(modules.read_text()))
    floor = [sys.executable, "-c", FLOOR, str(modules)]
    strict = [sys.executable, "-c", STRICT_FLOOR, str(modules)]
    rounds = [(run_child(program, env), run_child(floor, env), run_child(strict, env)) for _ in range(runs)]
    return Result(
        name=name,
        resources=resources,
        modules=imported,
        program=_median([p for p, _, _ in rounds]),
        floor=_median([f for _, f, _ in rounds]),
        strict=_median([s for _, _, s in rounds]),
        wall_ratio=statistics.median(p.wall / f.wall for p, f, _ in rounds),
        strict_ratio=statistics.median(p.wall / s.wall for p, _, s in rounds),
        cpu_ratio=statistics.median(p.cpu / f.cpu for p, f, _ in rounds),
        strict_cpu_ratio=statistics.median(p.cpu / s.cpu for p, _, s in rounds),
    )


def multiplied_stack(source: Path, factor: int, folder: Path) -> tuple[Path, list[str]]:
    """Write `source` with every list of named entries repeated `factor` times into `folder`.

    Lists are found by shape, not by name (a section's value, or a key of a section, whose items are
    mappings with a `name`), so sections added later scale too. Copies are named `<name><i>`; in copy i, a
    value naming an entry of a list multiplied before it names that entry's copy i (a team's GPU pool, a
    pipeline's model). A list whose copies the stack config
    rejects even without one optional key stays as it is. Returns the file and notes on what was adapted.
    """
    from mlops_platform.infra.config import ConfigError, parse_settings

    document = yaml.safe_load(source.read_text())
    config = document["config"]
    prefix = "mlops-platform:"
    stack = source.name.removeprefix("Pulumi.").removesuffix(".yaml")

    def named_list(value: object) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and "name" in v for v in value)

    def times(entries: list[dict], without: str | None) -> list[dict]:
        def follow(value: object, i: int) -> object:
            # Copy i of a team refers to copy i of its GPU pool, copy i of a pipeline to copy i of its model.
            if isinstance(value, str) and value in copied:
                return f"{value}{i}"
            if isinstance(value, list):
                return [follow(v, i) for v in value]
            return copy.deepcopy(value)

        def clone(entry: dict, i: int) -> dict:
            twin = {k: follow(v, i) for k, v in entry.items() if k not in ("name", without)}
            return twin | {"name": f"{entry['name']}{i}"}

        return entries + [clone(e, i) for i in range(2, factor + 1) for e in entries]

    def valid(candidate: dict) -> bool:
        # `secure:` values (e.g. prod's PagerDuty endpoint) validate as the offline preview reads them: opaque.
        from mlops_platform.infra.tooling.offline import _opaque

        raw = {k.removeprefix(prefix): _opaque(v) for k, v in candidate.items() if k.startswith(prefix)}
        try:
            parse_settings(raw, stack=stack)
        except ConfigError:
            return False
        return True

    notes: list[str] = []
    copied: set[str] = set()
    for key, value in list(config.items()):
        if not key.startswith(prefix):
            continue
        if named_list(value):
            paths: list[tuple[str, ...]] = [()]
        else:
            paths = [(k,) for k, v in value.items() if named_list(v)] if isinstance(value, dict) else []
        for path in paths:
            entries = config[key][path[0]] if path else config[key]
            where = ".".join([key.removeprefix(prefix), *path])
            # A key whose value must be unique across entries (a member role, a port) can't be copied as is:
            # if the copies are rejected, retry with copies that leave out one optional key at a time.
            optional = sorted({k for e in entries for k in e if k != "name"})
            for without in [None, *optional]:
                trial = copy.deepcopy(config)
                if path:
                    trial[key][path[0]] = times(entries, without)
                else:
                    trial[key] = times(entries, without)
                if valid(trial):
                    config = trial
                    copied.update(e["name"] for e in entries)
                    if without:
                        notes.append(f"{where} (copies without {without})")
                    break
            else:
                notes.append(f"{where} (not multiplied: the config rejects the copies)")
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / source.name
    out.write_text(yaml.safe_dump({**document, "config": config}, sort_keys=False))
    return out, notes


def _seconds(sample: Sample) -> str:
    return f"{sample.wall:.2f} ({sample.cpu:.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="program/floor pairs per row (median printed)")
    parser.add_argument("--stacks", nargs="+", default=["dev", "staging", "prod"])
    parser.add_argument("--factor", type=int, default=10, help="scale of the generated prod stack (0: skip)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-Pulumi replica")
    parser.add_argument(
        "--collector", choices=["held", "default", "both"], default="held", help="collector policy (see docstring)"
    )
    args = parser.parse_args()
    console = Console()
    load = os.getloadavg()
    console.print(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")

    modes = {"held": [None], "default": ["default"], "both": [None, "default"]}[args.collector]
    for mode in modes:
        env = {**os.environ, "MLOPS_PLATFORM_GC": mode} if mode else None
        label = "CPython's default collector" if mode else "collector held (infra/collector.py)"
        results = [_measure_preview(stack, ["--stack", stack], args.runs, env) for stack in args.stacks]
        stacks = Table(title=f"offline preview vs import floor: {label}, median of {args.runs}, seconds wall (cpu)")
        for column in (
            "stack",
            "resources",
            "modules",
            "preview",
            "floor",
            "ratio",
            "≤ 1.3",
            "strict floor",
            "ratio to strict",
            "peak MB",
        ):
            stacks.add_column(column, justify="right")
        for r in results:
            stacks.add_row(
                r.name,
                str(r.resources),
                str(r.modules),
                _seconds(r.program),
                _seconds(r.floor),
                f"{r.wall_ratio:.2f} ({r.cpu_ratio:.2f})",
                "yes" if r.wall_ratio <= 1.3 else "NO",
                _seconds(r.strict),
                f"{r.strict_ratio:.2f} ({r.strict_cpu_ratio:.2f})",
                f"{r.program.peak_mb:.0f}",
            )
        console.print(stacks)

        prod = next((r for r in results if r.name == "prod"), None) or _measure_preview(
            "prod", ["--stack", "prod"], args.runs, env
        )
        scale = Table(
            title=f"scale and per-resource cost: {label}; CPU ms per resource, warm run (cold: above strict floor)"
        )
        for column in (
            "program",
            "resources",
            "s wall (cpu)",
            "peak MB",
            "ms/resource warm (cold)",
            "vs prod",
            "target",
        ):
            scale.add_column(column, justify="right")
        prod_warm = warm_ms_per_resource("preview", ["--stack", "prod"], prod.resources, env)
        scale.add_row(
            "prod",
            str(prod.resources),
            _seconds(prod.program),
            f"{prod.program.peak_mb:.0f}",
            f"{prod_warm:.2f} ({prod.ms_per_resource:.2f})",
            "",
            "",
        )
        if args.factor > 1:
            with tempfile.TemporaryDirectory() as tmp:
                _, notes = multiplied_stack(STACKS / "Pulumi.prod.yaml", args.factor, Path(tmp))
                big_args = ["--stack", "prod", "--stacks-dir", tmp]
                big = _measure_preview(f"prod x{args.factor}", big_args, args.runs, env)
                big_warm = warm_ms_per_resource("preview", big_args, big.resources, env)
            per = big_warm / prod_warm
            peak = big.program.peak_mb / prod.program.peak_mb
            scale.add_row(
                big.name,
                str(big.resources),
                _seconds(big.program),
                f"{big.program.peak_mb:.0f}",
                f"{big_warm:.2f} ({big.ms_per_resource:.2f})",
                f"{per:.2f}x time/res, {peak:.2f}x peak",
                "yes" if per <= 1.1 and peak <= 1.5 else "NO (≤ 1.1x, ≤ 1.5x)",
            )
            if notes:
                console.print(f"x{args.factor} stack: {'; '.join(notes)}")
        if not args.no_bare:
            replica = bare(prod.resources, args.runs, env)
            replica_warm = warm_ms_per_resource("bare", [str(prod.resources)], prod.resources, env)
            program_warm = warm_ms_per_resource("program", ["prod"], prod.resources, env)
            ratio = program_warm / replica_warm
            scale.add_row("prod program only", str(prod.resources), "", "", f"{program_warm:.2f}", "", "")
            scale.add_row(
                replica.name,
                str(replica.resources),
                _seconds(replica.program),
                f"{replica.program.peak_mb:.0f}",
                f"{replica_warm:.2f} ({replica.ms_per_resource:.2f})",
                f"prod program is {ratio:.2f}x",
                "yes" if ratio <= 1.5 else "NO (≤ 1.5x)",
            )
        console.print(scale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
