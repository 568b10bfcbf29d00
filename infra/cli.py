"""`mlops-platform`: the offline preview of a stack, with no cloud credentials and no Pulumi CLI.

    mlops-platform preview --stack dev [--json plan.json] [--markdown summary.md]

Exit codes: 0 plan printed; 2 invalid stack config (the message names the key).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

EXIT_CONFIG_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point."""
    parser = argparse.ArgumentParser(prog="mlops-platform", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    preview = commands.add_parser("preview", help="run a stack's program under mocks and print its plan")
    preview.add_argument("--stack", required=True, help="stack name: a stacks/Pulumi.<stack>.yaml file")
    preview.add_argument("--json", type=Path, metavar="FILE", help="write the plan as JSON")
    preview.add_argument("--markdown", type=Path, metavar="FILE", help="write a pull-request summary")
    preview.add_argument("--stacks-dir", type=Path, default=None, help="folder of stack files (default: stacks/)")
    args = parser.parse_args(argv)
    return _preview(args)


def _preview(args: argparse.Namespace) -> int:
    from infra import offline, report
    from infra.config import ConfigError

    console = Console(stderr=False, highlight=False)
    started = time.perf_counter()
    try:
        plan = offline.preview_stack(args.stack, **({"stacks_dir": args.stacks_dir} if args.stacks_dir else {}))
    except (ConfigError, FileNotFoundError) as exc:
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

    if args.json:
        args.json.write_text(plan.to_json() + "\n")
        console.print(f"plan written to {args.json}")
    if args.markdown:
        args.markdown.write_text(report.markdown(plan))
        console.print(f"summary written to {args.markdown}")
    return 0


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
                label += f"  [green]{' · '.join(settings)}[/]"
            nodes[resource.urn] = tree.add(label)
            add(nodes[resource.urn], resource.urn)

    add(root, None)
    return root


if __name__ == "__main__":
    sys.exit(main())
