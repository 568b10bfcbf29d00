"""The `training` section: a bad GPU pool, Kubernetes version, endpoint CIDR or team fails before anything is
registered, with one message naming the key path, the value and what is accepted."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
from mlops_platform.components.training.instance_types import NVIDIA_GPU_FAMILIES, ec2_instance_types, known_families
from mlops_platform.infra.config import ConfigError, parse_settings
from mlops_platform.infra.config.training import SUPPORTED_KUBERNETES_VERSIONS
from mlops_platform.infra.tooling.offline import preview_stack, stack_config

from tests.config.test_bad_config import GOOD

TRAINING = {
    "kubernetes_version": "1.35",
    "gpu_pools": [
        {"name": "small", "instance_families": ["g6"], "max_gpus": 16},
        {"name": "large", "instance_types": ["p5.48xlarge"], "max_gpus": 32},
    ],
    "teams": [
        {"name": "vision", "gpu_quota": 8, "borrowing_limit_gpus": 4, "cpu": "64", "memory": "512Gi"},
        {"name": "nlp", "gpu_pool": "large", "gpu_quota": 16, "cpu": "96", "memory": "1Ti"},
    ],
}


def config_with(path: str, value, environment: str = "prod") -> dict:
    """GOOD with a training section where `path` (dots; digits index lists) is set to `value`."""
    config = copy.deepcopy({**GOOD, "environment": environment, "training": TRAINING})
    *parents, leaf = path.split(".")
    node = config["training"]
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if leaf.isdigit():
        node[int(leaf)] = value
    else:
        node[leaf] = value
    return config


def error_of(config) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    return str(caught.value)


def test_baseline_training_config_is_valid_and_defaults_are_safe():
    training = parse_settings(config_with("kubernetes_version", "1.35")).training
    assert training.public_access_cidrs == []  # private endpoint unless opted in
    assert [p.capacity_types for p in training.gpu_pools] == [["on-demand"], ["on-demand"]]
    assert training.teams[0].gpu_pool is None  # defaults to the first pool when wired


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "gpu_pools.0.instance_types",
            ["m5.large"],
            "mlops-platform:training.gpu_pools.0.instance_types = ['m5.large']: 'm5.large' has no NVIDIA GPU "
            "(family 'm5'); GPU families: g4dn, g5,",
        ),
        (
            "gpu_pools.0.instance_types",
            ["g5.huge"],
            "mlops-platform:training.gpu_pools.0.instance_types = ['g5.huge']: 'g5.huge' is not an EC2 instance type "
            "in botocore's EC2 model",
        ),
        (
            "gpu_pools.0.instance_families",
            ["c7i"],
            "mlops-platform:training.gpu_pools.0.instance_families = ['c7i']: 'c7i' has no NVIDIA GPU; GPU families:",
        ),
        (
            "gpu_pools.0.instance_families",
            ["g9x"],
            "mlops-platform:training.gpu_pools.0.instance_families = ['g9x']: 'g9x' is not an EC2 instance family "
            "known to botocore",
        ),
        (
            "kubernetes_version",
            "1.29",
            "mlops-platform:training.kubernetes_version = '1.29': unsupported Kubernetes version; supported: "
            "1.32, 1.33, 1.34, 1.35, 1.36",
        ),
        (
            "kubernetes_version",
            "1.32",
            "mlops-platform:training: kubernetes_version 1.32 is in extended support; set support_type: EXTENDED",
        ),
        (
            "kubernetes_version",
            "1.40",
            "mlops-platform:training.kubernetes_version = '1.40': unsupported Kubernetes version",
        ),
        (
            "public_access_cidrs",
            ["0.0.0.0/0"],
            "mlops-platform:training.public_access_cidrs.0 = '0.0.0.0/0': the API endpoint is never open to the "
            "whole internet",
        ),
        (
            "public_access_cidrs",
            ["10.0.0.0/8"],
            "mlops-platform:training.public_access_cidrs.0 = '10.0.0.0/8': a private, shared or link-local range",
        ),
        (
            "public_access_cidrs",
            ["198.51.100.7/24"],
            "mlops-platform:training.public_access_cidrs.0 = '198.51.100.7/24': not an IPv4 CIDR with its host bits",
        ),
        (
            "gpu_pools.0.capacity_types",
            ["spot", "on-demand"],
            "mlops-platform:training.gpu_pools.0.capacity_types = ['spot', 'on-demand']: spot capacity is not allowed "
            "in prod",
        ),
        (
            "gpu_pools.1",
            {"name": "small", "instance_families": ["g5"], "max_gpus": 8},
            "mlops-platform:training.gpu_pools: duplicate gpu pool name(s) ['small']",
        ),
        (
            "teams.1",
            {"name": "vision", "gpu_quota": 1, "cpu": "1", "memory": "1Gi"},
            "mlops-platform:training.teams: duplicate team name(s) ['vision']; each team has one namespace",
        ),
        (
            "teams.0.name",
            "Vision_Team",
            "mlops-platform:training.teams.0.name = 'Vision_Team': String should match pattern",
        ),
        (
            "teams.0.gpu_quota",
            14,
            "mlops-platform:training: teams.0 (vision): gpu_quota + borrowing_limit_gpus = 18 exceeds gpu pool 'small' "
            "max_gpus = 16",
        ),
        (
            "teams.1.gpu_pool",
            "medium",
            "mlops-platform:training: teams.1.gpu_pool = 'medium': no such gpu pool; pools: small, large",
        ),
        (
            "gpu_pools.1",
            {"name": "large", "instance_families": ["g6"], "max_gpus": 32, "efa": True},
            ("mlops-platform:training.gpu_pools.1 = {'name': 'large'", "gpu pool 'large' has efa: true, which needs"),
        ),
        (
            "gpu_pools.0.instance_families",
            ["g5", "g5g"],
            ("mlops-platform:training.gpu_pools.0 = {'name': 'small'", "mixes arm64 and amd64 families ['g5', 'g5g']"),
        ),
        (
            "gpu_pools.0.max_gpus",
            0,
            "mlops-platform:training.gpu_pools.0.max_gpus = 0: Input should be greater than or equal to 1",
        ),
        (
            "system_nodes",
            {"instance_types": ["m6i.jumbo"]},
            "mlops-platform:training.system_nodes.instance_types = ['m6i.jumbo']: 'm6i.jumbo' not in botocore's EC2",
        ),
        (
            "teams.1.s3_prefix",
            "teams/vision/nlp/",
            "overlap; teams' data must be disjoint",
        ),
    ],
)
def test_bad_training_config_names_the_key(path, value, expected):
    message = error_of(config_with(path, value))
    assert message.startswith("invalid stack config:\n")
    for fragment in expected if isinstance(expected, tuple) else (expected,):
        assert fragment in message


def test_an_extended_support_version_is_accepted_with_the_extended_policy():
    config = config_with("kubernetes_version", "1.33")
    config["training"]["support_type"] = "EXTENDED"
    assert parse_settings(config).training.support_type == "EXTENDED"


def test_spot_is_fine_outside_prod():
    settings = parse_settings(config_with("gpu_pools.0.capacity_types", ["spot", "on-demand"], environment="dev"))
    assert settings.training.gpu_pools[0].capacity_types == ["spot", "on-demand"]


def test_guaranteed_quotas_must_fit_their_pool():
    teams = [
        {"name": "a", "gpu_quota": 10, "cpu": "1", "memory": "1Gi"},
        {"name": "b", "gpu_quota": 10, "cpu": "1", "memory": "1Gi"},
    ]
    assert "teams' gpu_quota on gpu pool 'small' sum to 20, more than its max_gpus = 16" in error_of(
        config_with("teams", teams)
    )


def test_a_bad_training_config_registers_nothing(tmp_path):
    config = stack_config("dev")
    config["mlops-platform:training"] = config["mlops-platform:training"].replace('"g5", "g6"', '"g5", "m5"')
    with pytest.raises(ConfigError, match=r"training\.gpu_pools\.0\.instance_families = \['g5', 'm5'\]"):
        preview_stack("dev", config=config)


def test_gpu_family_table_and_supported_versions_match_the_published_models():
    # Every GPU family we accept exists in botocore's EC2 model, with types botocore knows.
    assert set(NVIDIA_GPU_FAMILIES) <= known_families()
    assert "p5.48xlarge" in ec2_instance_types() and "g6.xlarge" in ec2_instance_types()
    import botocore.loaders

    model = botocore.loaders.Loader().load_service_model("ec2", "service-2")
    assert ec2_instance_types() == frozenset(model["shapes"]["InstanceType"]["enum"])  # the fast path is exact
    # Every supported Kubernetes version has schemas to validate the cluster's objects against.
    available = {kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()}
    assert set(SUPPORTED_KUBERNETES_VERSIONS) <= available
