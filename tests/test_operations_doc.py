"""docs/operations.md says what the code does: the bootstrap outputs it tells people to copy exist, and the OIDC
subject template it sets is the one the trust policies expect."""

from __future__ import annotations

import re

from tests.bootstrap_plan import bootstrap_plan
from tests.conftest import REPO

DOC = (REPO / "docs" / "operations.md").read_text()


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
    from mlops_platform.infra.config.access import GitHubDeploySettings

    subject = GitHubDeploySettings(repository="owner/repo", environment="prod").subject
    assert subject.replace("owner/repo", "<owner>/<repo>") in DOC
