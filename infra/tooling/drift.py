"""The drift report: which resources `pulumi preview --refresh --expect-no-changes --json` would change, as the
Markdown body of the stack's drift issue (`.github/workflows/drift.yml`).

    python -m mlops_platform.infra.tooling.drift preview.json --stack dev --run-url URL > drift.md

Exit code 0 when the stack has no drift, 1 when it drifted or the preview failed (the body says which).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UNCHANGED_OPS = frozenset({"same", "read", "refresh"})
"""Step operations that change nothing in the cloud."""


@dataclass(frozen=True)
class DriftedResource:
    """A resource whose real state differs from what the program declares."""

    op: str
    """What `pulumi up` would do to put it back: update, replace, create (deleted out of band), delete, ..."""
    type: str
    name: str
    properties: tuple[str, ...]
    """The properties that differ (from the step's detailed diff), when Pulumi reports them."""


@dataclass(frozen=True)
class DriftReport:
    """The outcome of one stack's drift check."""

    drifted: tuple[DriftedResource, ...]
    errors: tuple[str, ...]
    """Error diagnostics: the preview itself failed (credentials, network, a provider)."""

    @property
    def clean(self) -> bool:
        """No drift and no error."""
        return not self.drifted and not self.errors


def parse(document: str) -> DriftReport:
    """Read `pulumi preview --json` output; anything that is not the expected JSON counts as a failed preview."""
    try:
        data: dict[str, Any] = json.loads(document) if document.strip() else {}
    except json.JSONDecodeError:
        return DriftReport((), ("the preview did not produce JSON (see the run log)",))
    if not isinstance(data, dict) or not data:
        return DriftReport((), ("the preview produced no result (see the run log)",))
    drifted = []
    for step in data.get("steps") or []:
        op = str(step.get("op", ""))
        if op in UNCHANGED_OPS:
            continue
        # urn:pulumi:<stack>::<project>::<parent types $ type>::<name>
        parts = str(step.get("urn", "")).split("::", 3)
        type_, name = (parts[2].split("$")[-1], parts[3]) if len(parts) == 4 else ("?", parts[-1])
        diff = step.get("detailedDiff") or {}
        keys = sorted(diff) if isinstance(diff, dict) else []
        drifted.append(DriftedResource(op, type_, name, tuple(keys or step.get("diffReasons") or ())))
    errors = tuple(
        str(d.get("message", "")).strip()
        for d in data.get("diagnostics") or []
        if str(d.get("severity", "")).lower() == "error"
    )
    return DriftReport(tuple(drifted), errors)


def markdown(report: DriftReport, *, stack: str, run_url: str) -> str:
    """The issue body (or comment) for a stack that drifted or whose preview failed."""
    lines = [f"`pulumi preview --refresh --expect-no-changes` on `{stack}`: [run log]({run_url})", ""]
    if report.drifted:
        lines += [
            f"**{len(report.drifted)} resource(s) differ from the last deployment:**",
            "",
            "| change to put it back | type | resource | properties |",
            "|---|---|---|---|",
        ]
        for resource in report.drifted:
            properties = ", ".join(f"`{p}`" for p in resource.properties) or "-"
            lines.append(f"| {resource.op} | `{resource.type}` | `{resource.name}` | {properties} |")
        lines.append("")
    if report.errors:
        lines += ["**The preview failed:**", ""] + [f"- {_one_line(e)}" for e in report.errors] + [""]
    if report.clean:
        lines.append("No drift.")
    lines.append(
        "Resolve: `pulumi refresh` to accept the change into the state (then make the code or stack file match), "
        "or `pulumi up` to put the resources back as the code says."
    )
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the drift issue body; exit 1 unless the stack is clean."""
    parser = argparse.ArgumentParser(prog="python -m mlops_platform.infra.tooling.drift", description=__doc__.splitlines()[0])
    parser.add_argument("preview_json", type=Path, help="output of pulumi preview --json")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--run-url", default="")
    args = parser.parse_args(argv)
    text = args.preview_json.read_text() if args.preview_json.is_file() else ""
    report = parse(text)
    sys.stdout.write(markdown(report, stack=args.stack, run_url=args.run_url))
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
