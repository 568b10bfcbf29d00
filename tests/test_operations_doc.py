"""docs/operations.md says what the code does: the README's links land on its headings, the bootstrap outputs it
tells people to copy exist, and the OIDC subject template it sets is the one the trust policies expect."""

from __future__ import annotations

import re

from tests.bootstrap_plan import bootstrap_plan
from tests.conftest import REPO

DOC = (REPO / "docs" / "operations.md").read_text()
README = (REPO / "README.md").read_text()


def _anchor(heading: str) -> str:
    # GitHub's slugs: lowercase, punctuation dropped, spaces to hyphens.
    return re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")


def test_readme_links_land_on_headings_of_the_operations_guide():
    anchors = {_anchor(h) for h in re.findall(r"^#+ (.+)$", DOC, re.M)}
    links = re.findall(r"\(docs/operations\.md#([^)]+)\)", README)
    assert links and sorted(set(links) - anchors) == []


def test_the_bootstrap_outputs_it_names_exist():
    named = set(re.findall(r"`(state_bucket|state_key_arn|secrets_key_arns|oidc_provider_arns|login_urls|"
                           r"secrets_providers)[.`]", DOC))  # fmt: skip
    assert named == {"state_bucket", "state_key_arn", "secrets_key_arns", "oidc_provider_arns", "login_urls",
                     "secrets_providers"}  # fmt: skip
    assert named <= set(bootstrap_plan().outputs)


def test_the_subject_template_it_sets_builds_the_subject_the_deployer_trusts():
    keys = re.findall(r"include_claim_keys\[\]=(\w+)", DOC)
    assert keys == ["repo", "context", "job_workflow_ref"]
    # The subject the doc shows for a prod deploy is the one the stack's deployer role trusts.
    from infra.config.access import GitHubDeploySettings

    subject = GitHubDeploySettings(repository="owner/repo", environment="prod").subject
    assert subject.replace("owner/repo", "<owner>/<repo>") in DOC
