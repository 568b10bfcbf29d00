"""The offline preview command: the tree, the JSON plan, the Markdown summary and the exit codes."""

from __future__ import annotations

import json
import shutil

from infra.cli import EXIT_CONFIG_ERROR, main
from infra.offline import STACKS_DIR


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
