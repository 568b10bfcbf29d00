"""The real stacks under mocks: every mandatory rule passes, the access-log bucket's SSE-S3 exception is a
listed suppression (not a rule hole), and prod protections are judged only in prod."""

from __future__ import annotations

import re

import pytest
from mlops_platform.policies import RULES, Level, Stack, evaluate
from mlops_platform.policies.suppressions import SUPPRESSIONS_FILE, load, parse

from tests.conftest import STACKS, plan_for

_evaluations = {}


def evaluation_for(stack: str):
    if stack not in _evaluations:
        _evaluations[stack] = evaluate(Stack.from_plan(plan_for(stack)))
    return _evaluations[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_every_mandatory_rule_passes(stack):
    evaluation = evaluation_for(stack)
    failures = [(f.rule.id, f.resource.name, f.verdict.reason) for f in evaluation.blocking]
    assert failures == []
    judged = {f.rule.id for f in evaluation.findings if f.rule.level is Level.MANDATORY}
    assert {"MLOPS-S3-001", "MLOPS-KMS-001", "MLOPS-IAM-001", "MLOPS-IAM-004", "MLOPS-TAG-002"} <= judged


@pytest.mark.parametrize("stack", STACKS)
def test_suppressed_failures_are_exactly_the_listed_exceptions_and_every_suppression_is_used(stack):
    evaluation = evaluation_for(stack)
    suppressed = {(f.rule.id, f.resource.name) for f in evaluation.suppressed}
    # prod also has the disaster-recovery region's access-log bucket (S3 logs only to a bucket in its region).
    log_buckets = ["datalake-access-logs-bucket"] + (
        ["disaster-recovery-access-logs-bucket"] if stack == "prod" else []
    )
    assert suppressed == {(rule, b) for b in log_buckets for rule in ("MLOPS-S3-001", "MLOPS-S3-005", "MLOPS-S3-006")}
    sse = next(f for f in evaluation.suppressed if f.rule.id == "MLOPS-S3-001")
    assert "AES256" in sse.verdict.reason
    assert "cannot deliver to a bucket whose default encryption is SSE-KMS" in sse.suppression.reason
    assert evaluation.unused_suppressions == ()


def test_data_buckets_pass_the_rule_the_log_bucket_is_excused_from():
    findings = [f for f in evaluation_for("dev").findings if f.rule.id == "MLOPS-S3-001"]
    passed = sorted(f.resource.name for f in findings if f.outcome == "pass")
    assert passed == ["audit-bucket-bucket"] + [
        f"datalake-{zone}-bucket" for zone in ("artifacts", "curated", "features", "raw")
    ]


def test_prod_protection_is_judged_in_prod_only():
    from mlops_platform.policies.rules.governance import STATEFUL_TYPES

    prod = {f.resource.name: f.outcome for f in evaluation_for("prod").findings if f.rule.id == "MLOPS-PROD-001"}
    dev = {f.outcome for f in evaluation_for("dev").findings if f.rule.id == "MLOPS-PROD-001"}
    stateful = [r.name for r in plan_for("prod").resources if r.type in STATEFUL_TYPES]
    assert set(prod) == set(stateful) and {"data-key-key", "datalake-raw-bucket"} <= set(prod)
    assert set(prod.values()) == {"pass"}
    assert dev == {"not-applicable"}


def test_ci_trust_is_pinned_to_the_configured_subjects():
    passed = {
        f.resource.name: f.verdict.reason
        for f in evaluation_for("prod").findings
        if f.rule.id == "MLOPS-IAM-004" and f.outcome == "pass"
    }
    workflows = "example-org/mlops-platform/.github/workflows"
    assert passed["personas-ci-deployer"] == (
        f"sub pinned to repo:example-org/mlops-platform:environment:prod:job_workflow_ref:{workflows}/pulumi-up.yml"
        "@refs/heads/main"
    )
    assert "repo:example-org/mlops-platform:pull_request:job_workflow_ref:" in passed["personas-ci-previewer"]


def test_suppression_file_entries_are_complete_and_name_real_rules():
    entries = load(SUPPRESSIONS_FILE, known_rules=RULES)
    assert entries and all(s.rule in RULES and len(s.reason) >= 20 for s in entries)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"rule": "MLOPS-S3-001", "resource": "x"}, "suppressions[0].reason is required"),
        ({"rule": "MLOPS-S3-001", "resource": "x", "reason": "because"}, "explain why"),
        ({"rule": "MLOPS-NOPE-1", "resource": "x", "reason": "a long enough reason for it"}, "no such rule"),
        (
            {"rule": "MLOPS-S3-001", "resource": "x", "reason": "a long enough reason for it", "who": "me"},
            "unknown key(s) who",
        ),
        (
            {"rule": "MLOPS-S3-001", "resource": "x", "reason": "a long enough reason for it", "stacks": "prod"},
            "stacks must be a list",
        ),
    ],
)
def test_bad_suppressions_are_rejected_with_the_key(entry, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse([entry], known_rules=RULES)


def test_suppressions_match_by_urn_or_name_and_stack():
    [entry] = parse(
        [{"rule": "MLOPS-SNS-001", "resource": "alerts-*", "reason": "a long enough reason for it", "stacks": ["dev"]}],
        known_rules=RULES,
    )
    assert entry.matches("MLOPS-SNS-001", "urn:pulumi:dev::p::aws:sns/topic:Topic::alerts-1", "alerts-1", "dev")
    assert not entry.matches("MLOPS-SNS-001", "urn:pulumi:prod::p::aws:sns/topic:Topic::alerts-1", "alerts-1", "prod")
    assert not entry.matches("MLOPS-LOG-001", "urn", "alerts-1", "dev")
