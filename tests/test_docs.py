"""The documentation's examples run, and its generated tables match the code."""

from __future__ import annotations

import re

from mlops_platform.infra.config import reference
from mlops_platform.infra.tooling.offline import record

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
DOCS = REPO / "docs"


def test_config_reference_is_current_and_every_key_is_described():
    document = (DOCS / "config-reference.md").read_text()
    assert reference.readme_block(document) == reference.markdown(), (
        "docs/config-reference.md is stale: uv run python -m mlops_platform.infra.config.reference --write"
    )
    undocumented = [key for key, _, _, description in reference.rows() if not description]
    assert undocumented == []


def test_component_example_runs_and_builds_hardened_buckets():
    document = (DOCS / "components.md").read_text()
    [example] = [b for b in re.findall(r"```python\n(.*?)```", document, re.S) if "SecureBucket(" in b]
    plan = record(lambda: exec(compile(example, "docs/components.md", "exec"), {}))
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


def test_quick_start_commands_are_the_ones_ci_runs():
    ci = (REPO / ".ci" / "run").read_text()
    assert "uv run pytest" in README and "run pytest" in ci.split("README's test command:")[1]
    assert "uv run mlops-platform preview --stack dev" in README


def test_policy_rules_table_is_current():
    from mlops_platform.policies import reference as rules_reference

    document = (DOCS / "security-model.md").read_text()
    assert rules_reference.readme_block(document) == rules_reference.markdown(), (
        "docs/security-model.md policy rules table is stale: uv run python -m mlops_platform.policies.reference --write"
    )


def test_readme_suppression_example_is_the_real_first_entry():
    import yaml
    from mlops_platform.policies.suppressions import SUPPRESSIONS_FILE

    document = (DOCS / "security-model.md").read_text()
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", document, re.S) if "suppressions:" in b]
    entry = yaml.safe_load(example)["suppressions"][0]
    real = yaml.safe_load(SUPPRESSIONS_FILE.read_text())["suppressions"][0]
    assert (entry["rule"], entry["resource"]) == (real["rule"], real["resource"])


def _anchor(heading: str) -> str:
    """GitHub's heading slug: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def test_every_relative_link_in_the_docs_resolves_to_a_file_and_heading():
    """README and docs/ link to each other and to the repository's files; a moved file or a renamed heading
    breaks no link."""
    broken = []
    for document in [REPO / "README.md", *DOCS.glob("*.md")]:
        prose = re.sub(r"`[^`\n]*`", "", re.sub(r"(?ms)^```.*?^```", "", document.read_text()))
        for target, anchor in re.findall(r"\]\(([^)#:\s]*)(?:#([^)\s]*))?\)", prose):
            path = (document.parent / target) if target else document
            if not path.exists():
                broken.append(f"{document.relative_to(REPO)} -> {target}")
            elif anchor and path.suffix == ".md":
                headings = {_anchor(h) for h in re.findall(r"^#+ (.+)$", path.read_text(), re.M)}
                if anchor not in headings:
                    broken.append(f"{document.relative_to(REPO)} -> {target}#{anchor}")
    assert broken == []


def test_component_reference_is_current_and_complete():
    from mlops_platform.infra.tooling import component_reference

    document = (DOCS / "components.md").read_text()
    assert component_reference.current_block(document) == component_reference.markdown(), (
        "docs/components.md is stale: uv run python -m mlops_platform.infra.tooling.component_reference --write"
    )
    found = component_reference.components()
    assert {"EncryptionKey", "SecureBucket", "ModelEndpoint", "TrainingCluster"} <= {c.name for c in found}
    undocumented = [f"{c.name}.{f.name}" for c in found for f in (*c.args, *c.outputs) if not f.description] + [
        c.name for c in found if not c.description or not c.type_token.startswith("mlops:")
    ]
    assert undocumented == []


def test_governance_doc_config_examples_are_valid_config():
    """Every stack-file snippet of docs/governance.md validates (in a prod config, the strictest)."""
    import copy

    import yaml
    from mlops_platform.infra.config import parse_settings

    from tests.config.test_bad_config import GOOD

    text = (REPO / "docs" / "governance.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]
    assert len(blocks) >= 3
    for block in blocks:
        config = copy.deepcopy(GOOD)
        for key, value in block.items():
            config[key.removeprefix("mlops-platform:")] = value
        parse_settings(config)
