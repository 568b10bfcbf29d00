"""The synthetic props of the rule tests use pulumi-aws 7's input names (camelCase wire form), nested
blocks included, so rules for resources the platform does not create yet look at real fields."""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping

import pytest

from tests.policies.test_rules import COMPLIANT, NONCOMPLIANT, NOT_APPLICABLE

STATE_ONLY = {"id", "arn"}
"""Outputs some synthetic resources carry to model stack-policy state."""


def _module(token: str):
    if token.startswith("pulumi:providers:"):
        return importlib.import_module("pulumi_aws"), "Provider"
    _, module, name = token.split(":")
    return importlib.import_module(f"pulumi_aws.{module.split('/')[0]}"), name


def _inputs(cls) -> dict[str, str | None]:
    """camelCase input name -> name of the nested Args class (if any)."""
    names = {}
    for attr in vars(cls).values():
        if isinstance(attr, property) and attr.fget is not None:
            wire = getattr(attr.fget, "_pulumi_name", None)
            nested = re.search(r"'(\w+Args)'", str(attr.fget.__annotations__.get("return", "")))
            names[wire] = nested.group(1) if nested else None
    return names


def _unknown_keys(props: Mapping, cls, module, path: str = "") -> list[str]:
    known = _inputs(cls)
    bad = []
    for key, value in props.items():
        if key in STATE_ONLY and not path:
            continue
        if key not in known:
            bad.append(f"{path}{key}")
            continue
        nested = known[key]
        if not nested:
            continue
        nested_cls = getattr(module, nested, None) or getattr(
            importlib.import_module(f"{module.__name__}._inputs"), nested
        )
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Mapping):
                bad += _unknown_keys(item, nested_cls, module, f"{path}{key}.")
    return bad


def _all_cases():
    seen = set()
    for table in (COMPLIANT, NONCOMPLIANT, NOT_APPLICABLE):
        for rule_id, cases in table.items():
            for index, case in enumerate(cases):
                build = case[0] if isinstance(case, tuple) else case
                for resource in build()[1].resources:
                    key = (resource.type, repr(resource.props))
                    if resource.type.startswith(("aws:", "pulumi:providers:aws")) and key not in seen:
                        seen.add(key)
                        yield pytest.param(resource.type, resource.props, id=f"{rule_id}-{index}-{resource.name}")


@pytest.mark.parametrize(("token", "props"), list(_all_cases()))
def test_synthetic_props_use_pulumi_aws_input_names(token, props):
    module, name = _module(token)
    # Where a nested block already has the name (`s3.BucketVersioningArgs` is the Bucket's inline block), the
    # resource's own args are `<Name>InitArgs`.
    resource_module = importlib.import_module(getattr(module, name).__module__)
    args_cls = getattr(resource_module, f"{name}InitArgs", None) or getattr(resource_module, f"{name}Args")
    inputs_module = (
        importlib.import_module(f"{module.__name__}._inputs")
        if module.__name__ != "pulumi_aws"
        else (importlib.import_module("pulumi_aws._inputs"))
    )
    assert _unknown_keys(props, args_cls, inputs_module) == []


SAGEMAKER_PATHS = [
    ("CreateTrainingJobRequest", "OutputDataConfig.KmsKeyId"),
    ("CreateTrainingJobRequest", "ResourceConfig.VolumeKmsKeyId"),
    ("CreateTrainingJobRequest", "ResourceConfig.InstanceType"),
    ("CreateTrainingJobRequest", "VpcConfig.Subnets"),
    ("CreateProcessingJobRequest", "ProcessingOutputConfig.KmsKeyId"),
    ("CreateProcessingJobRequest", "ProcessingResources.ClusterConfig.VolumeKmsKeyId"),
    ("CreateProcessingJobRequest", "ProcessingResources.ClusterConfig.InstanceType"),
    ("CreateProcessingJobRequest", "NetworkConfig.VpcConfig.Subnets"),
    ("CreateTransformJobRequest", "TransformOutput.KmsKeyId"),
    ("CreateTransformJobRequest", "TransformResources.VolumeKmsKeyId"),
]
"""Fields of the pipeline steps' job requests that MLOPS-SM-005/006 read."""


@pytest.fixture(scope="module")
def sagemaker_model():
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


@pytest.mark.parametrize(("shape", "path"), SAGEMAKER_PATHS)
def test_pipeline_rules_read_real_sagemaker_request_fields(sagemaker_model, shape, path):
    current = sagemaker_model.shape_for(shape)
    for member in path.split("."):
        assert member in current.members, f"{shape}.{path}: no {member}"
        current = current.members[member]


def test_instance_storage_families_exist_in_botocore(sagemaker_model):
    from mlops_platform.policies.rules.sagemaker import INSTANCE_STORAGE

    families = INSTANCE_STORAGE.pattern.split("(")[1].split(")")[0].split("|")
    types = set(sagemaker_model.shape_for("ProductionVariantInstanceType").enum) | set(
        sagemaker_model.shape_for("TrainingInstanceType").enum
    )
    assert [f for f in families if not any(t.startswith(f"ml.{f}.") for t in types)] == []
