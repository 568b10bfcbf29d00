"""A bad stack config fails before any resource is registered, with one message naming key, value and what
is accepted."""

from __future__ import annotations

import copy

import pytest
from mlops_platform.infra.config import PROJECT, ConfigError, parse_settings
from mlops_platform.infra.tooling.offline import preview_stack, stack_config

GOOD = {
    "environment": "prod",
    "region": "eu-west-1",
    "account": "012345678901",
    "tags": {"team": "ml", "cost_center": "cc-1"},
    "access": {
        "personas": {
            "data_scientist": ["arn:aws:iam::012345678901:role/DataScience"],
            "ml_engineer": ["arn:aws:iam::012345678901:role/MLEngineer"],
            "model_approver": ["arn:aws:iam::012345678901:role/ModelApprover"],
        },
        "key_administrator_arns": ["arn:aws:iam::012345678901:role/PlatformAdmin"],
        "github": {"repository": "org/repo", "environment": "prod"},
    },
}


def with_(path: str, value):
    config = copy.deepcopy(GOOD)
    *parents, leaf = path.split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return config


def test_the_baseline_config_is_valid():
    settings = parse_settings(GOOD)
    assert settings.account == "012345678901"  # leading zero kept
    assert settings.protection.protect_stateful and settings.protection.retain_on_delete


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (with_("colour", "blue"), "mlops-platform:colour: unknown key; accepted keys here: access, account,"),
        (
            with_("storage.retention", 3),
            "mlops-platform:storage.retention: unknown key; accepted keys here: "
            "abort_incomplete_multipart_upload_days,",
        ),
        (with_("region", "eu-west-9"), "mlops-platform:region = 'eu-west-9': not an AWS region"),
        (with_("account", "1234"), "mlops-platform:account = '1234': not an AWS account ID; expected 12 digits"),
        (
            with_("storage.noncurrent_version_expiration_days", 0),
            "mlops-platform:storage.noncurrent_version_expiration_days = 0: Input should be greater than or equal to 1",
        ),
        (
            with_("storage.noncurrent_version_expiration_days", "ninety"),
            "mlops-platform:storage.noncurrent_version_expiration_days = 'ninety': Input should be a valid integer",
        ),
        (
            with_("storage.access_log_retention_days", 4000),
            "mlops-platform:storage.access_log_retention_days = 4000: Input should be less than or equal to 3650",
        ),
        (
            with_("access.personas.data_scientist", ["arn:aws:iam::012345678901:user/alice"]),
            "mlops-platform:access.personas.data_scientist.0 = 'arn:aws:iam::012345678901:user/alice': "
            "not an IAM role ARN",
        ),
        (
            with_("access.secrets_key_arn", "alias/pulumi"),
            "mlops-platform:access.secrets_key_arn = 'alias/pulumi': not a KMS key ARN",
        ),
        (
            with_("access.github", {"repository": "org/repo"}),
            "mlops-platform:access.github = {'repository': 'org/repo'}: set exactly one of branch or environment",
        ),
        (
            with_("access.github.repository", "just-a-name"),
            "mlops-platform:access.github.repository = 'just-a-name': String should match pattern",
        ),
        (with_("environment", "qa"), "mlops-platform:environment = 'qa': Input should be 'dev', 'staging' or 'prod'"),
        (
            with_("protection.protect_stateful", False),
            "prod turns off protection.protect_stateful; keep the protection or explain why in "
            "protection.override_reason",
        ),
        (with_("storage.force_destroy", True), "prod turns off storage.force_destroy"),
        (
            with_("storage.object_lock", {"mode": "GOVERNANCE", "retention_days": 365}),
            "noncurrent_version_expiration_days (90) is shorter than object_lock.retention_days (365)",
        ),
        (
            with_("storage.object_lock", {"mode": "LEGAL_HOLD", "retention_days": 30}),
            "mlops-platform:storage.object_lock.mode = 'LEGAL_HOLD': Input should be 'GOVERNANCE' or 'COMPLIANCE'",
        ),
        (with_("tags", {"team": "ml"}), "mlops-platform:tags.cost_center: required key is missing"),
        (
            with_("access.max_session_hours", 24),
            "mlops-platform:access.max_session_hours = 24: Input should be less than or equal to 12",
        ),
    ],
)
def test_bad_config_names_the_key_and_what_is_accepted(config, expected):
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    message = str(caught.value)
    assert message.startswith("invalid stack config:")
    assert expected in message


def test_prod_protections_can_be_turned_off_only_with_a_reason():
    config = with_("protection", {"protect_stateful": False, "override_reason": "migrating buckets to a new account"})
    assert parse_settings(config).protection.protect_stateful is False


def test_all_errors_are_reported_in_one_message():
    config = with_("region", "mars-1")
    config["account"] = "x"
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    message = str(caught.value)
    assert "mlops-platform:region" in message and "mlops-platform:account" in message


def test_stack_file_must_configure_its_own_environment():
    with pytest.raises(ConfigError, match="the stack is 'dev'; each stack file must configure its own environment"):
        parse_settings(GOOD, stack="dev")


def test_bad_config_registers_nothing(monkeypatch):
    from mlops_platform.infra.tooling import offline

    registered = []
    original = offline._RecordingMonitor.RegisterResource
    monkeypatch.setattr(
        offline._RecordingMonitor,
        "RegisterResource",
        lambda self, request: (
            (request.type != "pulumi:pulumi:Stack" and registered.append(request.name)) or original(self, request)
        ),
    )
    config = stack_config("dev")
    config[f"{PROJECT}:region"] = "atlantis-1"
    with pytest.raises(ConfigError, match="mlops-platform:region = 'atlantis-1'"):
        preview_stack("dev", config=config)
    assert registered == []
    preview_stack("dev")  # the spy does see registrations of a good config
    assert "aws" in registered


def test_a_model_approver_who_also_trains_is_refused():
    trainer = GOOD["access"]["personas"]["ml_engineer"][0]
    config = with_("access.personas.model_approver", [trainer])
    with pytest.raises(ConfigError, match=r"separation of duties"):
        parse_settings(config)


def test_the_old_shared_principal_list_is_refused_with_the_accepted_keys():
    config = with_("access.human_principal_arns", ["arn:aws:iam::012345678901:role/DataScience"])
    with pytest.raises(ConfigError, match=r"human_principal_arns: unknown key; accepted keys here: .*personas"):
        parse_settings(config)
