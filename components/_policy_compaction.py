"""Shrinking a resolved policy document without changing what it allows or denies.

A managed policy holds 6,144 characters (whitespace not counted), and the persona boundary gathers every persona's
allows. These rewrites keep the document's meaning exactly: a statement whose content repeats another's under a
different Sid is dropped, and a resource that another resource of the same statement already matches is dropped
(a statement's resources are alternatives, so the redundant one adds nothing).
"""

import json
import re

from . import _iam


def covers(pattern: str, resource: str) -> bool:
    """Whether every ARN that `resource` matches is also matched by `pattern` (IAM `*` wildcards).

    Sound when `pattern` has no `?`: each `*` of `resource` then lies inside a span that one of `pattern`'s `*`
    consumes, so any text in its place is matched too. Patterns with `?` are compared for equality only.
    """
    if "?" in pattern:
        return pattern == resource
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, resource, flags=re.DOTALL) is not None


def without_covered_resources(resources: list) -> list:
    """`resources` less those another (different) entry already matches; the first of equal entries stays."""
    kept: list = []
    for index, resource in enumerate(resources):
        if not isinstance(resource, str):
            kept.append(resource)
            continue
        others = [r for i, r in enumerate(resources) if i != index and isinstance(r, str)]
        if resource in kept or any(o != resource and covers(o, resource) for o in others):
            continue
        kept.append(resource)
    return kept


def compact(statements: list[_iam.Statement]) -> list[_iam.Statement]:
    """`statements` with repeated contents (but for the Sid) dropped and redundant resources removed."""
    seen: dict[str, _iam.Statement] = {}
    for statement in statements:
        resources = statement.get("Resource")
        if isinstance(resources, list):
            kept = without_covered_resources(resources)
            statement = {**statement, "Resource": kept[0] if len(kept) == 1 else kept}
        seen.setdefault(json.dumps({k: v for k, v in statement.items() if k != "Sid"}, sort_keys=True), statement)
    return list(seen.values())
