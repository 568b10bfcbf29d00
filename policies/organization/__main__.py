"""Render the data perimeter's resource control policy for an organisation.

python -m mlops_platform.policies.organization --org-id o-a1b2c3d4e5 --output rcp.json
python -m mlops_platform.policies.organization --template           # the checked-in template (placeholder org)
python -m mlops_platform.policies.organization --template --write   # refresh policies/organization/*.json

The GitHub repositories (and the accounts to attach the policy to) come from the stack files unless
`--github-repository` is given. Exit codes: 0 rendered; 2 bad argument (the message names it, its value and what
is accepted).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from .perimeter import (
    ORG_ID_PATTERN,
    PLACEHOLDER_ORG_ID,
    TEMPLATE,
    Perimeter,
    StackFacts,
    attach_commands,
    render,
    stack_facts,
    template,
)

REPO = Path(__file__).resolve().parent.parent.parent
STACKS_DIR = REPO / "stacks"
BOOTSTRAP_STACK = REPO / "infra" / "bootstrap" / "Pulumi.org.yaml"
EXIT_BAD_ARGUMENT = 2


def _facts(stacks_dir: Path) -> StackFacts:
    return stack_facts(stacks_dir, BOOTSTRAP_STACK if stacks_dir == STACKS_DIR else None)


def _error(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return EXIT_BAD_ARGUMENT


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, render, print; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m mlops_platform.policies.organization",
                                     description=__doc__.splitlines()[0])  # fmt: skip
    parser.add_argument("--org-id", help="the organisation's ID (aws organizations describe-organization)")
    parser.add_argument("--github-repository", action="append", default=[], metavar="OWNER/NAME",
                        help="a repository whose GitHub Actions jobs may assume roles (repeat; default: the stack "
                             "files' access.github.repository)")  # fmt: skip
    parser.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="folder of Pulumi.<stack>.yaml files")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the minified policy here (default: stdout)")
    parser.add_argument("--template", action="store_true", help="the checked-in template, placeholder organisation")
    parser.add_argument("--write", action="store_true", help="with --template: rewrite the checked-in file")
    args = parser.parse_args(argv)

    facts = _facts(args.stacks_dir)
    if args.template:
        text = template(facts)
        if args.write:
            TEMPLATE.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    if not args.org_id:
        return _error("--org-id is required: the organisation's ID, o- followed by 10-32 lowercase letters or "
                      "digits (aws organizations describe-organization --query Organization.Id)")  # fmt: skip
    if args.org_id == PLACEHOLDER_ORG_ID:
        return _error(f"--org-id {args.org_id!r} is the template's placeholder; attached, it would refuse every "
                      "caller. Pass your organisation's ID (aws organizations describe-organization)")  # fmt: skip
    repositories = tuple(args.github_repository) or facts.github_repositories
    if not repositories:
        return _error(f"--github-repository: none given and no access.github.repository in {args.stacks_dir}; "
                      "name every owner/name whose workflows assume roles in these accounts")  # fmt: skip
    try:
        perimeter = Perimeter(org_id=args.org_id, github_repositories=repositories)
    except ValidationError as exc:
        for problem in exc.errors():
            field = problem["loc"][0]
            flag = "--org-id" if field == "org_id" else "--github-repository"
            accepted = (f"an organisation ID matching {ORG_ID_PATTERN}" if field == "org_id"
                        else "owner/name, e.g. example-org/mlops-platform")  # fmt: skip
            return _error(f"{flag} {problem['input']!r}: not accepted; expected {accepted}")
        raise
    policy = render(perimeter)
    if args.output:
        args.output.write_text(policy + "\n")
    else:
        sys.stdout.write(policy + "\n")
    report = [
        f"resource control policy: {len(policy)} of 5120 characters; GitHub repositories admitted: "
        f"{', '.join(perimeter.github_repositories)}",
    ]
    if facts.accounts:
        report.append(
            "attach it to the accounts of the stack files (or their OU): "
            + ", ".join(f"{name} {account}" for name, account in sorted(facts.accounts.items()))
        )
    if outside := sorted(set(facts.exchange_accounts) - set(facts.accounts.values())):
        report.append(f"check these accounts are in {perimeter.org_id} before attaching (the stacks exchange models "
                      f"with them): {', '.join(outside)}")  # fmt: skip
    report += attach_commands(str(args.output or "rcp.json"), list(facts.accounts.values()) or ["<account-or-ou>"])
    sys.stderr.write("\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
