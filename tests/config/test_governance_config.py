"""The features, audit and disaster_recovery sections: secure defaults, and one message naming the key, the value
and what is accepted for each kind of bad input, before anything is registered."""

from __future__ import annotations

import copy

import pytest
from mlops_platform.infra.config import ConfigError, parse_settings
from mlops_platform.infra.config.governance import audit_object_lock
from mlops_platform.infra.tooling.offline import preview_stack, stack_config

from tests.config.test_bad_config import GOOD

GROUP = {
    "name": "customers",
    "record_identifier": "customer_id",
    "event_time": "event_time",
    "features": [{"name": "customer_id", "type": "String"}, {"name": "event_time", "type": "String"}],
}


def config(**sections):
    data = copy.deepcopy(GOOD)
    data.update(copy.deepcopy(sections))
    return data


def group(**changes):
    return {**copy.deepcopy(GROUP), **changes}


def error(raw) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(raw)
    return str(caught.value)


def test_defaults_audit_everything_and_replicate_nothing():
    settings = parse_settings(GOOD)
    audit = settings.audit
    assert (audit.mode.value, audit.multi_region, audit.data_event_reads) == ("trail", True, True)
    assert audit.log_retention_days == 365 and audit.bucket_retention_days == 2555
    assert settings.features == [] and not settings.disaster_recovery.enabled
    # prod (GOOD is prod) locks the audit bucket even when the stack file does not say so
    lock = audit_object_lock(settings)
    assert (lock.mode.value, lock.retention_days) == ("GOVERNANCE", 365)
    dev = parse_settings(
        config(environment="dev", access={**GOOD["access"], "github": {"repository": "o/r", "branch": "main"}})
    )
    assert audit_object_lock(dev) is None


def test_a_minimal_feature_group_is_a_sandbox_iceberg_group_without_online_store():
    [parsed] = parse_settings(config(features=[GROUP])).features
    assert (parsed.stage.value, parsed.table_format.value, parsed.online_store) == ("sandbox", "Iceberg", None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            config(features=[group(record_identifier="id")]),
            "mlops-platform:features.0: record_identifier 'id' is not one of the group's features; "
            "expected one of: customer_id, event_time",
        ),
        (
            config(
                features=[
                    group(
                        features=[
                            {"name": "customer_id", "type": "Fractional"},
                            {"name": "event_time", "type": "String"},
                        ]
                    )
                ]
            ),
            "record_identifier 'customer_id' is Fractional; expected a feature of type Integral or String",
        ),
        (
            config(
                features=[
                    group(
                        features=[{"name": "customer_id", "type": "String"}, {"name": "event_time", "type": "Integral"}]
                    )
                ]
            ),
            "event_time 'event_time' is Integral; expected a feature of type String or Fractional",
        ),
        (
            config(features=[group(features=[*GROUP["features"], {"name": "score", "type": "Float"}])]),
            "mlops-platform:features.0.features.2.type = 'Float': Input should be 'Integral', 'Fractional' or 'String'",
        ),
        (
            config(features=[group(features=[*GROUP["features"], {"name": "write_time", "type": "String"}])]),
            "mlops-platform:features.0.features.2.name = 'write_time': is reserved by Feature Store",
        ),
        (
            config(features=[group(features=[*GROUP["features"], {"name": "bad name", "type": "String"}])]),
            "mlops-platform:features.0.features.2.name = 'bad name': not a feature name",
        ),
        (
            config(features=[group(), group()]),
            "features[1].name 'customers' is used twice",
        ),
        (
            config(features=[group(online_store={"ttl_value": 0})]),
            "mlops-platform:features.0.online_store.ttl_value = 0: Input should be greater than or equal to 1",
        ),
        (
            config(features=[group(shards=3)]),
            "mlops-platform:features.0.shards: unknown key; accepted keys here: description, event_time, features,",
        ),
        (
            config(audit={"mode": "organization"}),
            "mode 'organization' needs organization_trail_arn",
        ),
        (
            config(audit={"organization_trail_arn": "arn:aws:cloudtrail:us-east-1:123456789012:trail/org"}),
            "organization_trail_arn is only read in mode 'organization'",
        ),
        (
            config(audit={"log_retention_days": 100}),
            "mlops-platform:audit.log_retention_days = 100: 100 is not a CloudWatch Logs retention",
        ),
        (
            config(audit={"bucket_retention_days": 30, "object_lock": {"mode": "COMPLIANCE", "retention_days": 90}}),
            "bucket_retention_days (30) is shorter than object_lock.retention_days (90)",
        ),
        (
            config(disaster_recovery={"replica_region": "eu-west-1"}),
            "disaster_recovery.replica_region 'eu-west-1' is the stack's own region",
        ),
        (
            config(disaster_recovery={"replica_region": "mars-east-1"}),
            "mlops-platform:disaster_recovery.replica_region = 'mars-east-1': not an AWS region",
        ),
        (
            config(disaster_recovery={"replica_region": "us-west-2", "replica_storage_class": "GLACIER"}),
            "mlops-platform:disaster_recovery.replica_storage_class = 'GLACIER': Input should be 'STANDARD', "
            "'STANDARD_IA', 'INTELLIGENT_TIERING' or 'GLACIER_IR'",
        ),
    ],
)
def test_bad_governance_config_is_refused_with_the_key_and_what_is_accepted(raw, expected):
    assert expected in error(raw)


def test_a_feature_group_name_too_long_for_sagemaker_says_how_long_it_may_be():
    name = "customer-lifetime-value-features-version2"  # 41 characters: fits the key, not `<prefix>-<name>`
    message = error(config(environment="staging", features=[group(name=name + "x")]))
    assert f"makes the feature group name 'mlops-platform-staging-{name}x' longer than SageMaker's 64" in message
    assert "use at most 41 characters" in message
    assert parse_settings(config(environment="staging", features=[group(name=name)])).features[0].name == name


def test_a_bad_feature_group_fails_the_preview_before_anything_is_registered():
    stack = dict(stack_config("dev"))
    stack["mlops-platform:features"] = '[{"name": "x1", "record_identifier": "a", "event_time": "b", "features": []}]'
    with pytest.raises(ConfigError, match=r"features\.0\.features = \[\]: List should have at least 2 items"):
        preview_stack("dev", config=stack)


def test_replication_is_one_key_away():
    settings = parse_settings(config(disaster_recovery={"replica_region": "us-west-2"}))
    recovery = settings.disaster_recovery
    assert recovery.enabled and not recovery.replicate_raw and not recovery.replication_time_control
