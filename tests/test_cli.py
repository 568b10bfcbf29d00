"""The offline preview command: the tree, the JSON plan, the Markdown summary and the exit codes."""

from __future__ import annotations

import json
import shutil

from mlops_platform.infra.tooling.cli import EXIT_CONFIG_ERROR, EXIT_POLICY_VIOLATION, main
from mlops_platform.infra.tooling.offline import STACKS_DIR


def test_preview_prints_tree_counts_and_settings(capsys, tmp_path):
    plan_file, summary = tmp_path / "plan.json", tmp_path / "summary.md"
    assert main(["preview", "--stack", "prod", "--json", str(plan_file), "--markdown", str(summary)]) == 0
    out = capsys.readouterr().out
    assert "datalake-raw-bucket" in out and "SSE-KMS" in out and "object lock GOVERNANCE 365d" in out
    assert "resources planned for stack prod" in out

    plan = json.loads(plan_file.read_text())
    raw = next(r for r in plan["resources"] if r["name"] == "datalake-raw-bucket")
    assert raw["type"] == "aws:s3/bucket:Bucket"
    assert raw["parent"].endswith("mlops:storage:SecureBucket::datalake-raw")
    assert raw["options"]["protect"] is True and raw["options"]["retain_on_delete"] is True

    markdown = summary.read_text()
    assert markdown.startswith("### Offline preview: `mlops-platform` / `prod`")
    assert "| `datalake-raw-bucket` | `aws:s3/bucket:Bucket` | SSE-KMS" in markdown


def test_bad_config_prints_the_message_and_exits_2(capsys, tmp_path):
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = (STACKS_DIR / "Pulumi.dev.yaml").read_text().replace("region: us-east-1", "region: moon-1")
    (stacks / "Pulumi.dev.yaml").write_text(text)
    assert main(["preview", "--stack", "dev", "--stacks-dir", str(stacks)]) == EXIT_CONFIG_ERROR == 2
    captured = capsys.readouterr()
    assert "mlops-platform:region = 'moon-1': not an AWS region" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_unknown_stack_names_the_known_ones(capsys, tmp_path):
    shutil.copy(STACKS_DIR / "Pulumi.dev.yaml", tmp_path)
    assert main(["preview", "--stack", "qa", "--stacks-dir", str(tmp_path)]) == 2
    assert "no stack file Pulumi.qa.yaml" in capsys.readouterr().err


def _prod_stack_dir(tmp_path, old: str, new: str):
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    text = (STACKS_DIR / "Pulumi.prod.yaml").read_text()
    assert old in text
    (stacks / "Pulumi.prod.yaml").write_text(text.replace(old, new))
    return stacks


def test_policy_verdicts_in_output_json_and_markdown(capsys, tmp_path):
    plan_file, summary = tmp_path / "plan.json", tmp_path / "summary.md"
    assert main(["preview", "--stack", "dev", "--json", str(plan_file), "--markdown", str(summary)]) == 0
    out = capsys.readouterr().out
    assert "Policy verdicts" in out and "MLOPS-S3-001" in out and "datalake-access-logs-bu" in out
    assert "accepted:" in out  # the suppression's reason, next to the verdict

    policy = json.loads(plan_file.read_text())["policy"]
    assert policy["passed"] is True and policy["blocking"] == 0
    assert {"MLOPS-S3-001", "MLOPS-S3-005", "MLOPS-S3-006"} <= {s["rule"] for s in policy["suppressions"]}
    suppressed = [f for f in policy["findings"] if f["outcome"] == "suppressed"]
    assert "datalake-access-logs-bucket" in {f["resource"] for f in suppressed}
    assert all(f["suppression_reason"] for f in suppressed)

    markdown = summary.read_text()
    assert "#### Policy verdicts" in markdown and "No mandatory violations." in markdown
    assert "| `MLOPS-S3-001` | `datalake-access-logs-bucket` | S3 server access logging cannot" in markdown


def test_mandatory_violation_exits_3_and_still_writes_the_reports(capsys, tmp_path):
    """prod may turn protection off with an override reason (config accepts it), but the policy still blocks:
    the exception must also be suppressed explicitly."""
    stacks = _prod_stack_dir(
        tmp_path,
        "    protect_stateful: true\n",
        "    protect_stateful: false\n    override_reason: migrating buckets to a new account\n",
    )
    plan_file, summary = tmp_path / "plan.json", tmp_path / "summary.md"
    code = main(
        [
            "preview",
            "--stack",
            "prod",
            "--stacks-dir",
            str(stacks),
            "--json",
            str(plan_file),
            "--markdown",
            str(summary),
        ]
    )
    assert code == EXIT_POLICY_VIOLATION == 3
    captured = capsys.readouterr()
    policy = json.loads(plan_file.read_text())["policy"]
    failed = [f for f in policy["findings"] if f["outcome"] == "fail"]
    assert policy["passed"] is False and policy["blocking"] == len(failed) >= 6  # 5 buckets and the key at least
    assert {f["rule"] for f in failed} == {"MLOPS-PROD-001"}
    assert "datalake-raw-bucket" in {f["resource"] for f in failed}
    assert f"{len(failed)} mandatory violation(s) in stack prod" in captured.err
    assert "MLOPS-PROD-001" in captured.out and "without protect" in captured.out
    assert f"**{len(failed)} mandatory violation(s)**" in summary.read_text()
