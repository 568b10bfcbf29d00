"""The README's examples run and its config reference matches the models."""

from __future__ import annotations

import re
import tomllib

from infra.config import reference
from infra.offline import record
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_config_reference_is_current_and_every_key_is_described():
    assert reference.readme_block(README) == reference.markdown(), (
        "README config reference is stale: uv run python -m infra.config.reference --write"
    )
    undocumented = [key for key, _, _, description in reference.rows() if not description]
    assert undocumented == []


def test_component_example_runs_and_builds_hardened_buckets():
    [example] = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if "SecureBucket" in b]
    plan = record(lambda: exec(compile(example, "README.md", "exec"), {}))
    data = plan.get("aws:s3/bucket:Bucket", "team-data-bucket")
    assert data.options["protect"] and data.options["retain_on_delete"]
    sse = plan.get(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "team-logs-encryption"
    )
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    assert (
        plan.get("aws:s3/bucketLogging:BucketLogging", "team-data-logging")
        .inputs["targetBucket"]
        .startswith("team-logs")
    )


TEST_COMMAND = "uv run --group pipeline-tools pytest"
"""The README's test command: the default groups leave out the sagemaker SDK, which the template test needs."""


def test_quick_start_commands_are_the_ones_ci_runs():
    ci = (REPO / ".ci" / "run").read_text()
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert TEST_COMMAND in quick_start and "uv run mlops-platform preview --stack dev" in quick_start
    assert TEST_COMMAND.removeprefix("uv ") in ci.split("README's test command:")[1]


def test_the_test_command_installs_every_dependency_group_the_tests_import():
    """A group left out of the test command would fail the tests that need it on a fresh machine."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    default = project.get("tool", {}).get("uv", {}).get("default-groups", ["dev"])  # uv's default: dev
    enabled = set(default) | {TEST_COMMAND.split("--group ")[1].split()[0]}
    assert set(project["dependency-groups"]) <= enabled


def test_policy_rules_table_is_current():
    from policies import reference as rules_reference

    assert rules_reference.readme_block(README) == rules_reference.markdown(), (
        "README policy rules table is stale: uv run python -m policies.reference --write"
    )


def test_readme_suppression_example_is_the_real_first_entry():
    import yaml

    from policies.suppressions import SUPPRESSIONS_FILE

    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", README, re.S) if "suppressions:" in b]
    entry = yaml.safe_load(example)["suppressions"][0]
    real = yaml.safe_load(SUPPRESSIONS_FILE.read_text())["suppressions"][0]
    assert (entry["rule"], entry["resource"]) == (real["rule"], real["resource"])
