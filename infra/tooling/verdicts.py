"""The policy pack's verdicts on an offline plan: evaluation, the rich tables and the Markdown section.

The rules are the same functions `pulumi preview --policy-pack policies` runs (policies/); here they
run on the mock plan without pulumi-policy (and without its gRPC server).
"""

from __future__ import annotations

from mlops_platform.infra.tooling.offline import Plan
from mlops_platform.policies import Evaluation, Finding, Stack, evaluate
from rich.console import Group
from rich.table import Table
from rich.text import Text

_STYLES = {"fail": "bold red", "suppressed": "yellow", "pass": "green", "not-applicable": "dim"}


def evaluate_plan(plan: Plan) -> Evaluation:
    """Every rule on every resource of the plan, with the repository's suppressions."""
    return evaluate(Stack.from_plan(plan))


def _verdict(finding: Finding) -> Text:
    style = "bold red" if finding.blocking else _STYLES[finding.outcome]
    label = "FAIL" if finding.outcome == "fail" else finding.outcome
    text = Text(label, style=style)
    if finding.verdict.reason:
        text.append(f": {finding.verdict.reason}", style="")
    if finding.suppression is not None:
        text.append(f"\naccepted: {finding.suppression.reason}", style="dim")
    return text


def tables(evaluation: Evaluation) -> Group:
    """Violations and suppressions (rule, level, resource, verdict/reason), then one line per rule."""
    findings = Table(
        title=f"Policy verdicts: violations and suppressions ({evaluation.stack})", show_edge=False, show_lines=True
    )
    findings.add_column("rule", no_wrap=True)
    findings.add_column("level")
    findings.add_column("resource")
    findings.add_column("verdict / reason", ratio=1)
    for finding in evaluation.failures:
        findings.add_row(finding.rule.id, finding.rule.level.value, finding.resource.name, _verdict(finding))
    if not evaluation.failures:
        findings.add_row("-", "-", "-", Text("no violations", style="green"))

    by_rule = Table(title="Policy rules", show_edge=False)
    for column in ("rule", "level", "pass", "fail", "suppressed", "n/a"):
        by_rule.add_column(column, justify="right" if column not in ("rule", "level") else "left")
    for rule in evaluation.rules:
        counts = evaluation.counts(rule)
        if not any(counts.values()):
            continue
        fail = Text(str(counts["fail"]), style="bold red" if counts["fail"] else "")
        by_rule.add_row(
            rule.id,
            rule.level.value,
            str(counts["pass"]),
            fail,
            str(counts["suppressed"]),
            str(counts["not-applicable"]),
        )
    idle = [r.id for r in evaluation.rules if not any(evaluation.counts(r).values())]

    counts = evaluation.counts()
    blocking = len(evaluation.blocking)
    summary = Text(
        f"{counts['pass']} passed, {counts['fail']} failed ({blocking} mandatory), {counts['suppressed']} suppressed, "
        f"{counts['not-applicable']} not applicable; {len(idle)} rules matched no resource type in this stack.",
        style="bold red" if blocking else "green",
    )
    parts = [findings, by_rule, summary]
    for suppression in evaluation.unused_suppressions:
        parts.append(Text(f"unused suppression: {suppression.rule} {suppression.resource}", style="yellow"))
    return Group(*parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(evaluation: Evaluation) -> str:
    """The pull-request summary's policy section."""
    counts = evaluation.counts()
    blocking = evaluation.blocking
    status = (
        f"**{len(blocking)} mandatory violation(s)**: the deployment would be blocked."
        if blocking
        else "No mandatory violations."
    )
    lines = [
        "",
        "#### Policy verdicts",
        "",
        f"{status} {counts['pass']} passed, {counts['fail']} failed, {counts['suppressed']} suppressed, "
        f"{counts['not-applicable']} not applicable.",
        "",
    ]
    violations = [f for f in evaluation.failures if f.suppression is None]
    if violations:
        lines += ["| rule | level | resource | reason |", "|---|---|---|---|"]
        lines += [
            f"| `{f.rule.id}` | {f.rule.level.value} | `{f.resource.name}` | {_cell(f.verdict.reason)} |"
            for f in violations
        ]
        lines.append("")
    if evaluation.suppressed:
        lines += ["Suppressed (policies/suppressions.yaml):", "", "| rule | resource | reason |", "|---|---|---|"]
        lines += [
            f"| `{f.rule.id}` | `{f.resource.name}` | {_cell(f.suppression.reason)} |" for f in evaluation.suppressed
        ]
        lines.append("")
    lines += [
        "<details><summary>Rules</summary>",
        "",
        "| rule | level | pass | fail | suppressed | n/a |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for rule in evaluation.rules:
        c = evaluation.counts(rule)
        lines.append(
            f"| `{rule.id}` | {rule.level.value} | {c['pass']} | {c['fail']} | {c['suppressed']} | "
            f"{c['not-applicable']} |"
        )
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
