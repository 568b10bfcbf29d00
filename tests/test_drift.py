"""The drift issue names what drifted: `infra.tooling.drift` over `pulumi preview --json` output (the shape the Pulumi CLI
prints: `steps` with `op`, `urn`, `detailedDiff`/`diffReasons`, and `diagnostics`)."""

from __future__ import annotations

import json

from mlops_platform.infra.tooling import drift

URN = (
    "urn:pulumi:dev::mlops-platform::mlops:storage:DataLake$mlops:storage:SecureBucket"
    "$aws:s3/bucketVersioning:BucketVersioning::datalake-raw-versioning"
)
POLICY_URN = "urn:pulumi:dev::mlops-platform::aws:iam/rolePolicy:RolePolicy::personas-training-policy"
PREVIEW = {
    "steps": [
        {"op": "same", "urn": "urn:pulumi:dev::mlops-platform::aws:kms/key:Key::data-key-key"},
        {"op": "update", "urn": URN, "diffReasons": ["versioningConfiguration"],
         "detailedDiff": {"versioningConfiguration.status": {"kind": "update"}}},
        {"op": "create", "urn": POLICY_URN},
    ],
    "diagnostics": [{"severity": "warning", "message": "a warning is not a failure"}],
    "changeSummary": {"same": 1, "update": 1, "create": 1},
}  # fmt: skip


def test_the_issue_names_each_drifted_resource_its_change_and_property():
    report = drift.parse(json.dumps(PREVIEW))
    assert [(r.op, r.type, r.name) for r in report.drifted] == [
        ("update", "aws:s3/bucketVersioning:BucketVersioning", "datalake-raw-versioning"),
        ("create", "aws:iam/rolePolicy:RolePolicy", "personas-training-policy"),  # deleted out of band
    ]
    body = drift.markdown(report, stack="dev", run_url="https://example.invalid/run/1")
    assert "**2 resource(s) differ from the last deployment:**" in body
    assert "| update | `aws:s3/bucketVersioning:BucketVersioning` | `datalake-raw-versioning` | " in body
    assert "`versioningConfiguration.status`" in body
    assert "[run log](https://example.invalid/run/1)" in body


def test_a_clean_stack_exits_zero_and_a_drifted_one_one(tmp_path, capsys):
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"steps": [PREVIEW["steps"][0]], "diagnostics": []}))
    assert drift.main([str(clean), "--stack", "dev"]) == 0
    drifted = tmp_path / "drifted.json"
    drifted.write_text(json.dumps(PREVIEW))
    assert drift.main([str(drifted), "--stack", "dev"]) == 1
    assert "datalake-raw-versioning" in capsys.readouterr().out


def test_a_failed_preview_is_reported_as_a_failure_not_as_clean(tmp_path):
    errored = drift.parse(
        json.dumps({"steps": [], "diagnostics": [{"severity": "error", "message": "AccessDenied:\n  s3:GetObject"}]})
    )
    assert not errored.clean and "- AccessDenied: s3:GetObject" in drift.markdown(errored, stack="prod", run_url="u")
    for output in ("", "not json", "[]"):
        assert not drift.parse(output).clean  # no JSON at all (the CLI died): never "no drift"
    assert drift.main([str(tmp_path / "missing.json"), "--stack", "prod"]) == 1
