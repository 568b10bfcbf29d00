"""Bad `endpoints` config fails before anything is registered, naming the key, the value and what is accepted."""

from __future__ import annotations

import copy

import pytest
from mlops_platform.infra.config import ConfigError, parse_settings
from mlops_platform.infra.config.serving import check_endpoints

ACCOUNT, REGION = "012345678901", "eu-west-1"
ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn-classifier/7"

BASE = {
    "environment": "staging",
    "region": REGION,
    "account": ACCOUNT,
    "tags": {"team": "ml", "cost_center": "cc-1"},
    "access": {
        "personas": {
            "data_scientist": [f"arn:aws:iam::{ACCOUNT}:role/DataScience"],
            "ml_engineer": [f"arn:aws:iam::{ACCOUNT}:role/MLEngineer"],
            "model_approver": [f"arn:aws:iam::{ACCOUNT}:role/ModelApprover"],
        },
        "key_administrator_arns": [f"arn:aws:iam::{ACCOUNT}:role/PlatformAdmin"],
        "github": {"repository": "org/repo", "environment": "staging"},
    },
    "registry": {"models": [{"name": "churn-classifier"}, {"name": "fraud"}]},
}
ENDPOINT = {
    "name": "churn",
    "variants": [
        {
            "name": "a",
            "model_package_arn": ARN,
            "instance_type": "ml.m5.large",
            "autoscaling": {"min_instances": 1, "max_instances": 3, "invocations_per_instance": 100},
        }
    ],
}


def config(*changes, environment="staging"):
    """BASE with one endpoint; each change is (dotted path inside the endpoint, value), value None deletes."""
    endpoint = copy.deepcopy(ENDPOINT)
    for path, value in changes:
        *parents, leaf = path.split(".")
        node = endpoint
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        if value is None:
            node.pop(leaf if not leaf.isdigit() else int(leaf))
        elif leaf.isdigit():
            node[int(leaf)] = value
        else:
            node[leaf] = value
    return {**copy.deepcopy(BASE), "environment": environment, "endpoints": [endpoint]}


def error_of(raw) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    return str(caught.value)


def test_the_base_endpoint_is_valid_and_defaults_are_safe():
    [endpoint] = parse_settings(config()).endpoints
    assert endpoint.data_capture.enabled and endpoint.data_capture.sampling_percentage == 20
    assert endpoint.variants[0].network_isolation is True
    assert endpoint.variants[0].model_group == "churn-classifier"


SECOND = {"name": "b", "model_package_arn": ARN, "instance_type": "ml.m5.large"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            [
                ("variants.0.weight", 0),
                ("variants", [{**ENDPOINT["variants"][0], "weight": 0}, {**SECOND, "weight": 0}]),
            ],
            "mlops-platform:endpoints.0: variants[*].weight are all zero ([0.0, 0.0]); at least one production "
            "variant needs a weight above 0",
        ),
        (
            [("variants.0.weight", -1)],
            "mlops-platform:endpoints.0.variants.0.weight = -1: Input should be greater than or equal to 0",
        ),
        (
            [("variants.0.autoscaling.min_instances", 4)],
            "mlops-platform:endpoints.0.variants.0.autoscaling = {'min_instances': 4, 'max_instances': 3, "
            "'invocations_per_instance': 100}: min_instances (4) is greater than max_instances (3)",
        ),
        (
            [("variants.0.autoscaling.min_instances", 0)],
            "mlops-platform:endpoints.0.variants.0.autoscaling.min_instances = 0: Input should be greater than or "
            "equal to 1",
        ),
        (
            [("variants.0.instance_type", "ml.m5.huge")],
            "mlops-platform:endpoints.0.variants.0.instance_type = 'ml.m5.huge': not a SageMaker endpoint instance "
            "type (botocore ProductionVariantInstanceType); this family has ml.m5.12xlarge",
        ),
        (
            [("variants.0.model_package_arn", None)],
            "variant 'a' has no model: set model_package_arn, or image and model_data_url",
        ),
        (
            [("variants.0.image", "012345678901.dkr.ecr.eu-west-1.amazonaws.com/churn:1.2.0")],
            "variant 'a' sets model_package_arn and image/model_data_url; set one of them",
        ),
        (
            [("variants.0.model_package_arn", ARN.replace(ACCOUNT, "999999999999"))],
            "mlops-platform: endpoints.0.variants.0.model_package_arn = "
            "'arn:aws:sagemaker:eu-west-1:999999999999:model-package/churn-classifier/7': the package is in account "
            "999999999999 / eu-west-1, but this stack deploys to account 012345678901 / eu-west-1",
        ),
        (
            [("variants.0.model_package_arn", ARN.replace(REGION, "us-east-1"))],
            "the package is in account 012345678901 / us-east-1, but this stack deploys to account "
            "012345678901 / eu-west-1",
        ),
        (
            [("variants.0.model_package_arn", ARN.removesuffix("/7"))],
            "mlops-platform:endpoints.0.variants.0.model_package_arn = "
            "'arn:aws:sagemaker:eu-west-1:012345678901:model-package/churn-classifier': not a versioned model "
            "package ARN",
        ),
        (
            [("data_capture", {"sampling_percentage": 101})],
            "mlops-platform:endpoints.0.data_capture.sampling_percentage = 101: Input should be less than or equal "
            "to 100",
        ),
        (
            [("shadow_variant", {**SECOND, "name": "s"}), ("variants", [ENDPOINT["variants"][0], SECOND])],
            "shadow_variant needs exactly one production variant, found 2",
        ),
        (
            [("shadow_variant", {**SECOND, "name": "a"})],
            "variant names must be unique (shadow_variant included); repeated: a",
        ),
        (
            [("rollout", {"type": "CANARY"})],
            "mlops-platform:endpoints.0.rollout = {'type': 'CANARY'}: type CANARY needs canary_percent",
        ),
        (
            [
                (
                    "rollout",
                    {
                        "type": "LINEAR",
                        "linear_step_percent": 10,
                        "wait_interval_seconds": 600,
                        "max_execution_timeout_seconds": 3600,
                    },
                )
            ],
            "max_execution_timeout_seconds (3600) is shorter than the rollout itself (10 shift(s) x "
            "wait_interval_seconds 600 + termination_wait_seconds 600 = 6600)",
        ),
        (
            [("serverless", {"memory_size_mb": 2048})],
            "serverless endpoints do not support variants[0].instance_type; variants[0].autoscaling; "
            "variants[0].network_isolation: true (write false); data_capture.enabled: true (write false)",
        ),
        (
            [("serverless", {"memory_size_mb": 3000})],
            "mlops-platform:endpoints.0.serverless.memory_size_mb = 3000: Input should be a multiple of 1024",
        ),
        (
            [("off_hours", {"timezone": "Mars/Olympus"})],
            "mlops-platform:endpoints.0.off_hours.timezone = 'Mars/Olympus': not an IANA time zone",
        ),
        (
            [("off_hours", {"scale_down_cron": "0 19 * * *"})],
            "mlops-platform:endpoints.0.off_hours.scale_down_cron = '0 19 * * *': not a cron expression",
        ),
        (
            [("variants.0.colour", "blue")],
            "mlops-platform:endpoints.0.variants.0.colour: unknown key; accepted keys here: autoscaling, environment,",
        ),
    ],
)
def test_bad_endpoint_config_names_the_key(changes, expected):
    message = error_of(config(*changes))
    assert message.startswith("invalid stack config:")
    assert expected in message


def test_prod_off_hours_needs_a_reason():
    off_hours = ("off_hours", {"timezone": "Europe/Berlin"})
    raw = config(off_hours, environment="prod")
    raw["access"]["github"] = {"repository": "org/repo", "environment": "prod"}
    assert (
        "mlops-platform: endpoints.0.off_hours: prod endpoint 'churn' would scale down outside office hours; "
        "remove off_hours or explain why in off_hours.override_reason" in error_of(raw)
    )
    raw["endpoints"][0]["off_hours"]["override_reason"] = "batch-only model, no traffic at night"
    assert parse_settings(raw).endpoints[0].off_hours.timezone == "Europe/Berlin"
    assert parse_settings(config(off_hours)).endpoints[0].off_hours  # non-prod: no reason needed


def test_duplicate_endpoint_names_are_rejected():
    raw = config()
    raw["endpoints"].append(copy.deepcopy(raw["endpoints"][0]))
    assert "endpoints: names must be unique; repeated: churn" in error_of(raw)


def test_model_group_must_be_in_the_registry_section():
    raw = config()
    raw["registry"]["models"] = [{"name": "fraud"}]
    assert (
        "mlops-platform: endpoints.0.variants.0.model_package_arn = "
        "'arn:aws:sagemaker:eu-west-1:012345678901:model-package/churn-classifier/7': model package group "
        "'churn-classifier' is not in registry.models (configured: fraud)" in error_of(raw)
    )
    del raw["registry"]
    assert "is not in registry.models (configured: none)" in error_of(raw)


def test_model_group_must_be_registered():
    [endpoint] = parse_settings(config()).endpoints
    check_endpoints(
        [endpoint], environment="staging", region=REGION, account=ACCOUNT, model_groups=["churn-classifier"]
    )
    with pytest.raises(
        ValueError,
        match=r"endpoints\.0\.variants\.0\.model_package_arn = .*: model package group "
        r"'churn-classifier' is not in registry.models \(configured: fraud\)",
    ):
        check_endpoints([endpoint], environment="staging", region=REGION, account=ACCOUNT, model_groups=["fraud"])


def test_a_serverless_endpoint_says_what_it_gives_up():
    raw = config(
        ("serverless", {"memory_size_mb": 2048, "max_concurrency": 5}),
        ("variants", [{"name": "a", "model_package_arn": ARN, "network_isolation": False}]),
        ("data_capture", {"enabled": False}),
    )
    [endpoint] = parse_settings(raw).endpoints
    assert endpoint.serverless.memory_size_mb == 2048 and endpoint.rollout is None


def test_readme_endpoint_example_is_valid_config():
    import re

    import yaml

    from tests.conftest import REPO

    guide = (REPO / "docs" / "operator-guide.md").read_text()
    section = guide.split("## Model endpoints and promotion", 1)[1].split("\n## ", 1)[0]
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", section, re.S) if "mlops-platform:endpoints" in b]
    endpoints = yaml.safe_load(example)["mlops-platform:endpoints"]
    raw = {
        **copy.deepcopy(BASE),
        "environment": "prod",
        "account": "333333333333",
        "region": "us-east-1",
        "endpoints": endpoints,
        "registry": {"models": [{"name": "churn-model"}]},
    }
    raw["access"] = {
        "personas": {
            "data_scientist": ["arn:aws:iam::333333333333:role/DataScience"],
            "ml_engineer": ["arn:aws:iam::333333333333:role/MLEngineer"],
            "model_approver": ["arn:aws:iam::333333333333:role/ModelApprover"],
        },
        "key_administrator_arns": ["arn:aws:iam::333333333333:role/PlatformAdmin"],
        "github": {"repository": "org/repo", "environment": "prod"},
    }
    [endpoint] = parse_settings(raw).endpoints
    assert [v.weight for v in endpoint.variants] == [0.9, 0.1]
    assert endpoint.rollout.type.value == "LINEAR" and endpoint.monitoring is not None
    assert endpoint.baseline_variant.name == "champion"


def test_preview_of_a_promotion_to_a_foreign_package_exits_2_naming_the_key(capsys, tmp_path):
    from mlops_platform.infra.tooling.cli import EXIT_CONFIG_ERROR, main
    from mlops_platform.infra.tooling.offline import STACKS_DIR

    text = (STACKS_DIR / "Pulumi.prod.yaml").read_text()
    foreign = text.replace(
        "us-east-1:333333333333:model-package/churn-model/14", "us-east-1:111111111111:model-package/churn-model/15"
    )
    assert foreign != text
    (tmp_path / "Pulumi.prod.yaml").write_text(foreign)
    assert main(["preview", "--stack", "prod", "--stacks-dir", str(tmp_path)]) == EXIT_CONFIG_ERROR
    err = capsys.readouterr().err
    assert "mlops-platform: endpoints.0.variants.1.model_package_arn = " in err
    assert "the package is in account 111111111111 / us-east-1, but this stack deploys to account 333333333333" in err
    assert "Traceback" not in err
