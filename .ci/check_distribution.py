"""CI step: the package as another team gets it.

Builds the sdist and the wheel, checks what they contain, installs the wheel into a fresh virtual
environment outside the repository, runs every consumer example under `examples/` there under Pulumi's
mocks, and type-checks each with mypy --strict (0 errors), plus a planted type error that mypy must
report. Run by `.ci/run` after the test suite; `uv run python .ci/check_distribution.py` by hand.
Exit code 0 when everything holds; 1 with the failures listed otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
PACKAGE = "mlops_platform"
UV = os.environ.get("UV") or shutil.which("uv") or "uv"
"""The uv running this script (`uv run` sets UV): on a fresh machine `.ci/run` may have it only as `python3 -m uv`."""
MUST_SHIP = (
    f"{PACKAGE}/__init__.py",
    f"{PACKAGE}/py.typed",
    f"{PACKAGE}/components/storage.py",
    f"{PACKAGE}/policies/PulumiPolicy.yaml",
    f"{PACKAGE}/policies/suppressions.yaml",
    f"{PACKAGE}/infra/tooling/prices/us-east-1.yaml",
    f"{PACKAGE}/pipelines/train_evaluate_register/definition.ebs.template.json",
    f"{PACKAGE}/pipelines/train_evaluate_register/definition.instance-store.template.json",
    f"{PACKAGE}/pipelines/train_evaluate_register/definition.assets.json",
)
RUN_UNDER_MOCKS = """
import json, runpy, sys
from mlops_platform.infra.tooling.offline import record
plan = record(lambda: runpy.run_path(sys.argv[1], run_name="__main__"), stack="example")
print(json.dumps(sorted({r.type for r in plan.resources})))
"""
PLANTED_ERROR = """
from mlops_platform.components.encryption import EncryptionKey

# Otherwise complete, so the one error mypy must report is the int where the account is a string.
EncryptionKey("planted", {"account_id": 123456789012, "administrator_role_arns": []})
"""
MYPY_CONFIG = """
[mypy]
strict = True
# The generated provider SDKs are typed but huge; their types are not what this check is about.
[mypy-pulumi_aws.*,pulumi_kubernetes.*]
follow_imports = skip
"""


def run(*command: str | Path, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; raise with the output when `check` and it fails."""
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}")
    return result


def check_wheel(wheel: Path) -> list[str]:
    """Only the namespaced package at the top of site-packages, with its data files and py.typed."""
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    stray = sorted(t for t in top if t != PACKAGE and not t.endswith(".dist-info"))
    problems = [f"wheel installs a top-level {t!r}" for t in stray]
    problems += [f"wheel lacks {path}" for path in MUST_SHIP if path not in names]
    problems += [f"wheel ships {n}" for n in names if n.startswith((f"{PACKAGE}/tests/", "tests/", "stacks/"))]
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for field in ("Version:", "License", "Project-URL:", "Classifier: Typing :: Typed", "Provides-Extra:"):
        if field not in metadata:
            problems.append(f"wheel METADATA has no {field!r}")
    return problems


def check_sdist(sdist: Path) -> list[str]:
    """The sdist carries what rebuilds the wheel and what a reader needs, not the local environment."""
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    problems = [
        f"sdist lacks {p}"
        for p in ("pyproject.toml", "README.md", "CHANGELOG.md", "components/storage.py")
        if p not in names
    ]
    problems += [f"sdist ships {n}" for n in sorted(names) if n.startswith((".venv/", ".git/"))]
    return problems


def examples() -> list[Path]:
    """Every consumer example program: `examples/<name>/__main__.py`."""
    return sorted(EXAMPLES.glob("*/__main__.py"))


def check_consumer(wheel: Path, workdir: Path) -> list[str]:
    """Install the wheel with every extra into a fresh venv; run and type-check each example from outside the
    repository."""
    venv = workdir / "venv"
    run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    run(UV, "pip", "install", "--quiet", "--python", python, f"{wheel}[kubernetes]", "mypy")
    (workdir / "mypy.ini").write_text(MYPY_CONFIG)
    problems = []
    for example in examples():
        copy = workdir / "examples" / example.parent.name
        shutil.copytree(example.parent, copy)
        ran = run(python, "-c", RUN_UNDER_MOCKS, copy / "__main__.py", cwd=workdir, check=False)
        if ran.returncode != 0:
            problems.append(f"{example.parent.name}: failed under mocks:\n{ran.stderr[-2000:]}")
        elif not [t for t in json.loads(ran.stdout.strip().splitlines()[-1]) if t.startswith("mlops:")]:
            problems.append(f"{example.parent.name}: registered no mlops component")
        typed = run(
            python, "-m", "mypy", "--config-file", workdir / "mypy.ini", copy / "__main__.py", cwd=workdir, check=False
        )
        if typed.returncode != 0:
            problems.append(f"{example.parent.name}: mypy --strict:\n{typed.stdout[-2000:]}")
        verdict = "clean" if typed.returncode == 0 else "FAILED"
        print(f"  example {example.parent.name}: ran under mocks, mypy --strict {verdict}")
    planted = workdir / "planted.py"
    planted.write_text(PLANTED_ERROR)
    typed = run(python, "-m", "mypy", "--config-file", workdir / "mypy.ini", planted, cwd=workdir, check=False)
    if typed.returncode == 0 or "account_id" not in typed.stdout:
        problems.append(f"mypy missed the planted type error:\n{typed.stdout}")
    return problems


def main() -> int:
    """Build, inspect, install, run and type-check; print what failed."""
    with tempfile.TemporaryDirectory(prefix="mlops-dist-") as tmp:
        workdir = Path(tmp)
        run(UV, "build", "--quiet", "--sdist", "--wheel", "--out-dir", workdir / "dist", cwd=REPO)
        wheel = next((workdir / "dist").glob("*.whl"))
        sdist = next((workdir / "dist").glob("*.tar.gz"))
        print(f"built {wheel.name} and {sdist.name}")
        problems = check_wheel(wheel) + check_sdist(sdist)
        if not examples():
            problems.append("no consumer example under examples/<name>/__main__.py")
        problems += check_consumer(wheel, workdir)
    for problem in problems:
        print(f"FAIL {problem}")
    print("distribution check passed" if not problems else f"distribution check: {len(problems)} failure(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
