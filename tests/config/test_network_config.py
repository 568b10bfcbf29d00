"""The `network` section: every bad value fails with a message naming the key and what is accepted."""

from __future__ import annotations

import pytest
from mlops_platform.components._logs import DOCUMENTED_RETENTION_DAYS, retention_days_allowed
from mlops_platform.infra.config import ConfigError, parse_settings

from tests.config.test_bad_config import GOOD, with_


def error_of(config) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    message = str(caught.value)
    assert message.startswith("invalid stack config:")
    return message


def test_defaults_are_prod_grade():
    network = parse_settings(GOOD).network
    assert (network.az_count, network.nat_gateways.value, network.cidr_block) == (3, "per_az", "10.0.0.0/16")
    assert {"sagemaker.api", "ecr.dkr", "sts", "logs", "kms"} <= {e.value for e in network.interface_endpoints}


def test_az_count_arrives_as_text_from_the_engine():
    assert parse_settings(with_("network.availability_zones", "4")).network.az_count == 4


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "network.cidr_block",
            "10.0.0.1/16",
            "mlops-platform:network.cidr_block = '10.0.0.1/16': not a network address (host bits are set); "
            "did you mean 10.0.0.0/16?",
        ),
        ("network.cidr_block", "10.0.0/16", "mlops-platform:network.cidr_block = '10.0.0/16': not an IPv4 CIDR"),
        (
            "network.cidr_block",
            "8.8.0.0/16",
            "network.cidr_block 8.8.0.0/16 is not a private range; expected a CIDR inside 10.0.0.0/8, 172.16.0.0/12",
        ),
        (
            "network.cidr_block",
            "10.0.0.0/12",
            "network: cidr_block='10.0.0.0/12': a VPC CIDR must be between /16 and /28",
        ),
        (
            "network.cidr_block",
            "10.0.0.0/24",
            "network: private subnets would be /27 (32 addresses); the EKS VPC CNI gives every pod an address, "
            "so they need /24 or larger",
        ),
        (
            "network.private_subnet_prefix_length",
            17,
            "network: cidr_block 10.0.0.0/16 is too small for 3 private /17 and 3 public /24 subnets "
            "(99072 addresses needed, 65536 available)",
        ),
        (
            "network.public_subnet_prefix_length",
            30,
            "mlops-platform:network.public_subnet_prefix_length = 30: Input should be less than or equal to 28",
        ),
        (
            "network.reserved_cidrs",
            ["192.168.0.0/16", "10.0.128.0/17"],
            "network.cidr_block 10.0.0.0/16 overlaps network.reserved_cidrs 10.0.128.0/17",
        ),
        (
            "network.availability_zones",
            1,
            "mlops-platform:network.availability_zones = 1: expected a count from 2 to 6, or a list of AZ names",
        ),
        (
            "network.availability_zones",
            7,
            "mlops-platform:network.availability_zones = 7: expected a count from 2 to 6",
        ),
        (
            "network.availability_zones",
            ["eu-west-1a"],
            "network.availability_zones = ['eu-west-1a']: lists 1 zone(s); expected 2 to 6 distinct AZ names",
        ),
        (
            "network.availability_zones",
            ["eu-west-1a", "eu-west-1a", "eu-west-1b"],
            "names a zone twice; expected distinct AZ names",
        ),
        (
            "network.availability_zones",
            ["euw1-az1", "euw1-az2", "euw1-az3"],
            "are not availability zone names; expected <region><letter>, e.g. us-east-1a",
        ),
        (
            "network.availability_zones",
            ["eu-west-1a", "eu-west-1b", "us-east-1c"],
            "mlops-platform: network.availability_zones ['us-east-1c'] are not in region eu-west-1; "
            "expected names like eu-west-1a",
        ),
        (
            "network.nat_gateways",
            "none",
            "mlops-platform:network.nat_gateways = 'none': Input should be 'single' or 'per_az'",
        ),
        (
            "network.interface_endpoints",
            ["sts", "s3"],
            "mlops-platform:network.interface_endpoints.1 = 's3': Input should be 'sagemaker.api', ",
        ),
        ("network.interface_endpoints", ["sts", "sts"], "network.interface_endpoints names a service twice"),
        (
            "network.flow_log_retention_days",
            100,
            "mlops-platform:network.flow_log_retention_days = 100: 100 is not a CloudWatch Logs retention; "
            "expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400,",
        ),
        ("network.vpc_cidr", "10.0.0.0/16", "mlops-platform:network.vpc_cidr: unknown key; accepted keys here:"),
    ],
)
def test_bad_network_config_names_the_key(path, value, expected):
    assert expected in error_of(with_(path, value))


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("network.availability_zones", 2, "prod network.availability_zones spans 2 AZs (prod needs at least 3)"),
        (
            "network.availability_zones",
            ["eu-west-1a", "eu-west-1b"],
            "prod network.availability_zones spans 2 AZs (prod needs at least 3)",
        ),
        ("network.nat_gateways", "single", "prod network.nat_gateways is 'single' (prod needs 'per_az'"),
    ],
)
def test_prod_must_survive_an_az_outage_unless_a_reason_is_given(path, value, expected):
    message = error_of(with_(path, value))
    assert expected in message and "explain why in protection.override_reason" in message
    config = with_(path, value)
    config["protection"] = {"override_reason": "single-AZ pilot until the capacity reservation lands"}
    assert parse_settings(config).network.az_count >= 2
    config = with_(path, value)
    config["environment"] = "staging"
    assert parse_settings(config).environment.value == "staging"


def test_retention_values_come_from_botocore_and_match_the_documented_list():
    assert retention_days_allowed() == DOCUMENTED_RETENTION_DAYS
