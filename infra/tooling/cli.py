"""`mlops-platform`: the offline preview of a stack, with no cloud credentials and no Pulumi CLI.

    mlops-platform preview --stack dev [--json plan.json] [--markdown summary.md] [--baseline main-plan.json]
    mlops-platform cost --stack dev [--baseline main-plan.json] [--markdown cost.md] [--json cost.json]
    mlops-platform pipelines render [--check]   (needs `uv sync --extra pipelines`: imports the sagemaker SDK)
    mlops-platform promote MODEL VERSION --to ENV [--from ENV] [--endpoint E --variant V] [--dry-run]

Exit codes:
  0  plan printed, no mandatory policy violation
  2  invalid stack config (the message names the key), unknown stack or unreadable baseline; a refused
     promotion (not approved, foreign package, model not shared with the target, ambiguous variant)
  3  plan printed, but a mandatory policy rule failed and no suppression covers it
     (the --json and --markdown files are still written, with the verdicts)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from mlops_platform.infra import collector
from mlops_platform.infra.tooling import cost
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

EXIT_CONFIG_ERROR = 2
EXIT_POLICY_VIOLATION = 3


def run() -> NoReturn:
    """Console entry point (`mlops-platform`): `main` in a process that exits as soon as its output is flushed.

    One command, one program run: the collector stays off the imported heap (see `infra.collector`) and the
    interpreter's teardown is skipped. Exceptions other than `SystemExit` keep Python's usual traceback and exit.
    """
    collector.hold()
    try:
        code = main()
    except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
        if not isinstance(exc.code, int | None):
            raise
        code = exc.code or 0
    collector.exit_now(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv` and run one command; returns the exit code (in-process callers, tests)."""
    parser = argparse.ArgumentParser(prog="mlops-platform", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="run a stack's program under mocks and print its plan")
    preview.add_argument("--stack", required=True, help="stack name: a stacks/Pulumi.<stack>.yaml file")
    preview.add_argument("--json", type=Path, metavar="FILE", help="write the plan as JSON")
    preview.add_argument("--markdown", type=Path, metavar="FILE", help="write a pull-request summary")
    preview.add_argument("--stacks-dir", type=Path, default=None, help="folder of stack files (default: stacks/)")
    preview.add_argument("--baseline", type=Path, metavar="FILE", help="plan JSON to compare the cost against")
    preview.add_argument(
        "--project",
        choices=["platform", "bootstrap"],
        default="platform",
        help="bootstrap: the state bucket/keys/OIDC program in infra/bootstrap (stack files there)",
    )
    cost = commands.add_parser("cost", help="estimate a stack's monthly cost from the dated price table")
    cost.add_argument("--stack", required=True, help="stack name: a stacks/Pulumi.<stack>.yaml file")
    cost.add_argument("--baseline", type=Path, metavar="FILE", help="plan JSON (preview --json) to compare against")
    cost.add_argument("--markdown", type=Path, metavar="FILE", help="write the pull-request cost section")
    cost.add_argument("--json", type=Path, metavar="FILE", help="write the estimate as JSON")
    cost.add_argument("--stacks-dir", type=Path, default=None, help="folder of stack files (default: stacks/)")
    pipelines = commands.add_parser("pipelines", help="SageMaker pipeline templates (pipelines/)")
    pipeline_commands = pipelines.add_subparsers(dest="pipelines_command", required=True)
    render = pipeline_commands.add_parser("render", help="re-render the checked-in definition templates offline")
    render.add_argument("--check", action="store_true", help="exit 1 if a checked-in template is stale")
    _add_promote(commands)
    args = parser.parse_args(argv)
    if args.command == "promote":
        return _promote(args)
    if args.command == "pipelines":
        from mlops_platform.pipelines.render import main as render_main  # imports sagemaker only when rendering

        return render_main(["--check"] if args.check else [])
    return _cost(args) if args.command == "cost" else _preview(args)


def _add_promote(commands) -> None:
    promote = commands.add_parser(
        "promote",
        help="serve an approved model version in another environment: registers it there and rewrites "
        "its stack file (commit the change and open a pull request)",
    )
    promote.add_argument("model", help="model package group, e.g. churn-model")
    promote.add_argument("version", type=int, help="version approved in the source environment, e.g. 15")
    promote.add_argument("--to", required=True, help="target environment (its stack file is rewritten)")
    promote.add_argument("--from", dest="source", help="source environment (default: the one before --to)")
    promote.add_argument("--endpoint", help="endpoint whose variant to change, when several serve the model")
    promote.add_argument("--variant", help="variant to change, when several serve the model")
    promote.add_argument("--stacks-dir", type=Path, default=None, help="folder of stack files (default: stacks/)")
    promote.add_argument("--dry-run", action="store_true", help="check and print the diff; register and write nothing")


def _promote(args: argparse.Namespace) -> int:
    from mlops_platform.infra.tooling.promote import PromotionError, promote

    console = Console(stderr=False, highlight=False)
    try:
        done = promote(
            args.model,
            args.version,
            to=args.to,
            source=args.source,
            endpoint=args.endpoint,
            variant=args.variant,
            dry_run=args.dry_run,
            **({"stacks_dir": args.stacks_dir} if args.stacks_dir else {}),
        )
    except PromotionError as exc:
        Console(stderr=True, highlight=False).print(f"[bold red]refused:[/] {exc}", markup=True, soft_wrap=True)
        return EXIT_CONFIG_ERROR
    sys.stdout.write(done.diff)  # a plain unified diff, as `git diff` would show it
    if done.written:
        console.print(
            f"{done.source_arn} is registered as {done.target_arn}; {len(done.baselines)} baseline objects in the "
            f"target's artifacts bucket ({len(done.copied)} copied now); {done.stack_file} rewritten. "
            "Commit it and open a pull request: the merge deploys it.",
            markup=False,
            soft_wrap=True,
        )
    else:
        console.print(f"dry run: {done.source_arn} is Approved and its {len(done.baselines)} baseline objects exist; "
                      f"{done.target_arn} would be registered (predicted).", markup=False, soft_wrap=True)  # fmt: skip
    for uri in done.baselines:
        console.print(f"  {uri}", markup=False, soft_wrap=True)
    return 0


def _preview(args: argparse.Namespace) -> int:
    from mlops_platform.infra.config import ConfigError
    from mlops_platform.infra.tooling import offline, report, verdicts

    console = Console(stderr=False, highlight=False)
    try:  # a bad baseline fails before the program runs
        baseline = _baseline_estimate(args.baseline)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _baseline_error(args.baseline, exc)
    started = time.perf_counter()
    try:
        where = {"stacks_dir": args.stacks_dir} if args.stacks_dir else {}
        if args.project == "bootstrap":
            from mlops_platform.infra.bootstrap import preview_bootstrap

            plan = preview_bootstrap(args.stack, **where)
        else:
            plan = offline.preview_stack(args.stack, **where)
    except (ConfigError, FileNotFoundError, pulumi_run_error()) as exc:
        Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        return EXIT_CONFIG_ERROR
    elapsed = time.perf_counter() - started

    console.print(_tree(plan, report))
    table = Table(title="Resources by type", show_edge=False)
    table.add_column("type")
    table.add_column("count", justify="right")
    for type_, count in report.counts_by_type(plan):
        table.add_row(type_, str(count))
    console.print(table)
    console.print(
        f"{len(plan.resources)} resources planned for stack [bold]{plan.stack}[/] in {elapsed:.1f}s (offline, mocks)."
    )
    evaluation = verdicts.evaluate_plan(plan)
    console.print(verdicts.tables(evaluation))

    estimate = cost.estimate(plan)
    delta = cost.compare(estimate, baseline) if baseline is not None else None
    for renderable in cost.summary_renderables(estimate, delta):
        console.print(renderable)

    if args.json:
        data = {**plan.to_dict(), "policy": evaluation.to_dict()}
        args.json.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        console.print(f"plan written to {args.json}")
    if args.markdown:
        args.markdown.write_text(
            report.markdown(plan) + "\n" + cost.markdown(estimate, delta) + verdicts.markdown(evaluation)
        )
        console.print(f"summary written to {args.markdown}")
    if evaluation.blocking:
        Console(stderr=True, highlight=False).print(
            f"[bold red]policy:[/] {len(evaluation.blocking)} mandatory violation(s) in stack {plan.stack}",
            markup=True,
        )
        return EXIT_POLICY_VIOLATION
    return 0


def pulumi_run_error() -> type[Exception]:
    """`pulumi.RunError`, the base of every config error (the bootstrap's too), imported when needed."""
    import pulumi

    return pulumi.RunError


def _cost(args: argparse.Namespace) -> int:
    from mlops_platform.infra.config import ConfigError
    from mlops_platform.infra.tooling import offline

    console = Console(stderr=False, highlight=False)
    try:  # a bad baseline fails before the program runs
        baseline = _baseline_estimate(args.baseline)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _baseline_error(args.baseline, exc)
    try:
        plan = offline.preview_stack(args.stack, **({"stacks_dir": args.stacks_dir} if args.stacks_dir else {}))
    except (ConfigError, FileNotFoundError) as exc:
        Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        return EXIT_CONFIG_ERROR
    estimate = cost.estimate(plan)
    delta = cost.compare(estimate, baseline) if baseline is not None else None
    for renderable in cost.rich_renderables(estimate, delta):
        console.print(renderable)
    if args.json:
        data = estimate.to_dict()
        if delta is not None:
            data["baseline_total_monthly_usd"], data["delta_monthly_usd"] = delta.baseline_total, delta.delta
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        console.print(f"estimate written to {args.json}")
    if args.markdown:
        args.markdown.write_text(cost.markdown(estimate, delta))
        console.print(f"cost summary written to {args.markdown}")
    return 0


def _baseline_estimate(baseline: Path | None) -> cost.Estimate | None:
    return cost.estimate(cost.load_plan(baseline)) if baseline is not None else None


def _baseline_error(baseline: Path | None, exc: Exception) -> int:
    message = f"baseline plan {baseline}: {exc}" if baseline else str(exc)
    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    return EXIT_CONFIG_ERROR


def _tree(plan, report) -> Tree:
    root = Tree(f"[bold]{plan.project}[/] / [bold]{plan.stack}[/]")
    nodes: dict[str | None, Tree] = {}
    by_parent: dict[str | None, list] = {}
    for resource in plan.resources:
        parent = (
            resource.parent
            if resource.parent and "pulumi:pulumi:Stack" not in resource.parent.split("::")[2].split("$")[-1]
            else None
        )
        by_parent.setdefault(parent, []).append(resource)

    def add(tree: Tree, parent: str | None) -> None:
        for resource in sorted(by_parent.get(parent, []), key=lambda r: (r.custom, r.name)):
            settings = report.key_settings(resource, plan)
            style = "bold cyan" if not resource.custom else ""
            kind = report.short_type(resource.type)
            label = f"[{style}]{resource.name}[/] [dim]{kind}[/]" if style else f"{resource.name} [dim]{kind}[/]"
            if settings:
                label += f"  [green]{escape(' · '.join(settings))}[/]"  # settings may hold "[secret]"
            nodes[resource.urn] = tree.add(label)
            add(nodes[resource.urn], resource.urn)

    add(root, None)
    return root


if __name__ == "__main__":
    run()
