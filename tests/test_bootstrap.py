"""The bootstrap program (infra/bootstrap) under mocks: the state bucket's protections, one secrets key per
environment, the GitHub OIDC provider in each environment's account, and its config validation."""

from __future__ import annotations

import json

import pytest
import yaml
from mlops_platform.infra.bootstrap.bootstrap_config import BootstrapConfigError, parse_bootstrap

from tests.bootstrap_plan import BOOTSTRAP_DIR, STACK_FILE, bootstrap_plan, bootstrap_settings
from tests.conftest import REFERENCE, statements

ENVS = ("dev", "staging", "prod")


def test_the_project_file_is_a_valid_pulumi_project_of_its_own():
    import jsonschema

    schema = json.loads((REFERENCE / "pulumi-project.schema.json").read_text())
    project = yaml.safe_load((BOOTSTRAP_DIR / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)
    assert project["name"] == "mlops-bootstrap" and project["runtime"]["name"] == "python"


def test_state_bucket_is_kms_encrypted_versioned_locked_logged_and_protected():
    plan = bootstrap_plan()
    bucket = plan.get("aws:s3/bucket:Bucket", "state-bucket")
    assert bucket.inputs["objectLockEnabled"] is True
    assert bucket.options["protect"] and bucket.options["retain_on_delete"]
    [rule] = plan.get("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                      "state-encryption").inputs["rules"]  # fmt: skip
    default = rule["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms" and default["kmsMasterKeyId"] == plan.outputs["state_key_arn"]
    versioning = plan.get("aws:s3/bucketVersioning:BucketVersioning", "state-versioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    lock = plan.get("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "state-object-lock").inputs
    assert lock["rule"]["defaultRetention"] == {
        "mode": "GOVERNANCE",
        "days": bootstrap_settings().state.lock_retention_days,
    }
    logging = plan.get("aws:s3/bucketLogging:BucketLogging", "state-logging").inputs
    assert logging["targetBucket"] == plan.outputs["access_log_bucket"]
    policy = statements(json.loads(plan.get("aws:s3/bucketPolicy:BucketPolicy", "state-policy").inputs["policy"]))
    sids = {s["Sid"]: s for s in policy}
    assert sids["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sids["DenyBucketDeletion"]["Effect"] == "Deny" and sids["DenyBucketDeletion"]["Principal"] == "*"


def test_every_stateful_resource_is_protected_and_retained():
    plan = bootstrap_plan()
    for type_ in ("aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:iam/openIdConnectProvider:OpenIdConnectProvider"):
        for resource in plan.of_type(type_):
            assert resource.options["protect"] and resource.options["retain_on_delete"], resource.name


def test_one_rotating_secrets_key_per_environment_with_an_alias():
    plan = bootstrap_plan()
    for env in ENVS:
        key = plan.get("aws:kms/key:Key", f"secrets-{env}-key").inputs
        assert key["enableKeyRotation"] is True and key["deletionWindowInDays"] == 30
        alias = plan.get("aws:kms/alias:Alias", f"secrets-{env}-alias").inputs
        assert alias["name"] == f"alias/pulumi-secrets-{env}"
        assert plan.outputs["secrets_key_arns"][env].split(":")[5].startswith("key/")  # ARNs, not aliases
        assert plan.outputs["secrets_providers"][env] == (
            f"awskms:///{plan.outputs['secrets_key_arns'][env]}?region=us-east-1"
        )
    assert len(set(plan.outputs["secrets_key_arns"].values())) == len(ENVS)


def test_a_github_oidc_provider_in_each_environment_account():
    plan = bootstrap_plan()
    settings = bootstrap_settings()
    providers = {p.name: p for p in plan.of_type("pulumi:providers:aws")}
    for env in settings.environments:
        oidc = plan.get("aws:iam/openIdConnectProvider:OpenIdConnectProvider", f"github-oidc-{env.name}")
        assert oidc.inputs["url"] == "https://token.actions.githubusercontent.com"
        assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
        provider = providers[oidc.provider]
        assert json.loads(provider.inputs["allowedAccountIds"]) == [env.account]
        assert json.loads(provider.inputs["assumeRoles"])[0]["role_arn"] == env.admin_role_arn


def test_the_platform_stacks_trust_the_bootstrap_oidc_provider_instead_of_creating_one():
    # A second provider for the same URL in one account fails (EntityAlreadyExists).
    for env in bootstrap_settings().environments:
        access = yaml.safe_load((STACK_FILE.parents[2] / "stacks" / f"Pulumi.{env.name}.yaml").read_text())
        github = access["config"]["mlops-platform:access"]["github"]
        assert github["oidc_provider_arn"] == (
            f"arn:aws:iam::{env.account}:oidc-provider/token.actions.githubusercontent.com"
        )


def test_login_urls_are_one_prefix_per_environment():
    outputs = bootstrap_plan().outputs
    assert outputs["login_urls"] == {env: f"s3://{outputs['state_bucket']}/{env}" for env in ENVS}


def _raw() -> dict:
    raw = yaml.safe_load(STACK_FILE.read_text())["config"]
    return {k.removeprefix("mlops-bootstrap:"): v for k, v in raw.items() if k.startswith("mlops-bootstrap:")}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(bucket="x"), "mlops-bootstrap:bucket: unknown key"),
        (
            lambda c: c["environments"][1].pop("admin_role_arn"),
            "environments[1] (staging) is in account 222222222222, not the bootstrap's 444444444444: set its "
            "admin_role_arn",
        ),
        (
            lambda c: c["state"].update(lock_retention_days=120),
            "noncurrent_version_expiration_days (90) is shorter than lock_retention_days (120)",
        ),
        (
            lambda c: c["environments"].append(dict(c["environments"][0])),
            "duplicate environment name(s) ['dev']",
        ),
        (
            lambda c: c["state"].update(bucket_prefix="Org_State"),
            "mlops-bootstrap:state.bucket_prefix = 'Org_State'",
        ),
    ],
)
def test_bad_bootstrap_config_names_the_key(change, expected):
    config = _raw()
    change(config)
    with pytest.raises(BootstrapConfigError) as caught:
        parse_bootstrap(config)
    assert expected in str(caught.value)


def test_the_offline_preview_runs_the_bootstrap_and_refuses_a_bad_config_with_exit_2(tmp_path, capsys):
    from mlops_platform.infra.tooling import cli

    assert cli.main(["preview", "--project", "bootstrap", "--stack", "org"]) == 0
    assert "stack org" in capsys.readouterr().out
    text = STACK_FILE.read_text().replace("lock_retention_days: 30", "lock_retention_days: 0")
    (tmp_path / "Pulumi.org.yaml").write_text(text)
    code = cli.main(["preview", "--project", "bootstrap", "--stack", "org", "--stacks-dir", str(tmp_path)])
    assert code == 2
    assert "mlops-bootstrap:state.lock_retention_days = 0" in capsys.readouterr().err


RUN_AS_PULUMI_DOES = """
import runpy, sys
from mlops_platform.infra.tooling import offline
config = offline.stack_config("org", offline.REPO_ROOT / "infra" / "bootstrap")
for name in [m for m in sys.modules if m.split(".")[0] in ("infra", "components")]:
    del sys.modules[name]
plan = offline.record(lambda: runpy.run_path("infra/bootstrap", run_name="__main__"), stack="org", config=config,
                      account=config["mlops-bootstrap:account"])
print(len(plan.resources))
"""


def test_entry_point_runs_the_way_the_pulumi_language_host_runs_it():
    """`runpy.run_path` on the bootstrap project's folder in a fresh interpreter, as the Python language host does
    for `infra/bootstrap/Pulumi.yaml`."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", RUN_AS_PULUMI_DOES], cwd=BOOTSTRAP_DIR.parents[1], capture_output=True,
                          text=True, check=False, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) == len(bootstrap_plan().resources)  # the same program as the offline preview runs
