"""Which GitHub events a CodeBuild webhook starts a build for, decided the way CodeBuild documents it.

CodeBuild API reference, `Webhook.filterGroups` and `WebhookFilter` (the text ships in botocore's codebuild
model): a build starts when at least one filter group passes; a group passes when each of its filters passes;
`EVENT` matches one of a comma-separated list of event types, every other type is a regular expression over one
field of the event; `excludeMatchedPattern` inverts a filter. Each non-EVENT type is documented for some events
only (`HEAD_REF`: push and pull request; `BASE_REF`: pull request; `WORKFLOW_NAME`: `WORKFLOW_JOB_QUEUED`; ...).
What CodeBuild does with a filter on an event it is not documented for is not documented, so `admits` refuses to
guess and raises `UndocumentedFilter`: a filter group that relies on such a filter protects nothing we can show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PULL_REQUEST_EVENTS = frozenset(
    {"PULL_REQUEST_CREATED", "PULL_REQUEST_UPDATED", "PULL_REQUEST_REOPENED", "PULL_REQUEST_MERGED",
     "PULL_REQUEST_CLOSED"}
)  # fmt: skip
EVENTS = PULL_REQUEST_EVENTS | {"PUSH", "RELEASED", "PRERELEASED", "WORKFLOW_JOB_QUEUED"}

APPLIES_TO: Mapping[str, frozenset[str]] = {
    "ACTOR_ACCOUNT_ID": EVENTS,
    "HEAD_REF": PULL_REQUEST_EVENTS | {"PUSH"},
    "BASE_REF": PULL_REQUEST_EVENTS,
    "FILE_PATH": PULL_REQUEST_EVENTS | {"PUSH"},
    "COMMIT_MESSAGE": PULL_REQUEST_EVENTS | {"PUSH"},
    "TAG_NAME": frozenset({"RELEASED", "PRERELEASED"}),
    "RELEASE_NAME": frozenset({"RELEASED", "PRERELEASED"}),
    "WORKFLOW_NAME": frozenset({"WORKFLOW_JOB_QUEUED"}),
    # REPOSITORY_NAME and ORGANIZATION_NAME: organization or global webhooks only (none on a repository webhook).
    "REPOSITORY_NAME": frozenset(),
    "ORGANIZATION_NAME": frozenset(),
}
"""For each non-EVENT filter type, the GitHub events CodeBuild documents it for (API reference notes)."""


class UndocumentedFilter(ValueError):
    """A filter type was applied to an event CodeBuild does not document it for."""


@dataclass(frozen=True)
class GitHubEvent:
    """The parts of a GitHub webhook delivery the filters read."""

    event: str
    """CodeBuild's event type, e.g. `WORKFLOW_JOB_QUEUED` for `workflow_job` / `queued`."""
    actor_account_id: str
    """`sender.id`: the account whose action sent the event."""
    workflow_name: str = ""
    """`workflow_job.workflow_name` (workflow-job events)."""
    head_ref: str = ""
    """Push `ref` or pull request `head.ref` (as `refs/heads/<branch>`)."""
    base_ref: str = ""
    """Pull request `base.ref`."""


_FIELD = {"ACTOR_ACCOUNT_ID": "actor_account_id", "WORKFLOW_NAME": "workflow_name", "HEAD_REF": "head_ref",
          "BASE_REF": "base_ref"}  # fmt: skip


def _passes(flt: Mapping[str, Any], event: GitHubEvent) -> bool:
    kind, pattern = flt["type"], flt["pattern"]
    if kind == "EVENT":
        matched = event.event in {p.strip() for p in pattern.split(",")}
    elif event.event not in APPLIES_TO[kind] or kind not in _FIELD:
        raise UndocumentedFilter(f"{kind} is not documented for {event.event} events on a repository webhook")
    else:
        matched = re.search(pattern, getattr(event, _FIELD[kind])) is not None
    return matched != bool(flt.get("excludeMatchedPattern", flt.get("exclude_matched_pattern", False)))


def admits(filter_groups: Sequence[Mapping[str, Any]], event: GitHubEvent) -> bool:
    """True when CodeBuild starts a build for `event`. `filter_groups` as pulumi-aws's `Webhook` takes them
    (`[{"filters": [{"type", "pattern", "excludeMatchedPattern"?}]}]`)."""
    for group in filter_groups:
        filters = group["filters"]
        if not any(f["type"] == "EVENT" for f in filters):
            raise ValueError("every filter group needs an EVENT filter (CodeBuild API reference, Webhook)")
        # EVENT first: a group whose event type does not match fails before its other filters are read.
        if all(_passes(f, event) for f in sorted(filters, key=lambda f: f["type"] != "EVENT")):
            return True
    return False
