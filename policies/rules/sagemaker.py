"""SageMaker: KMS on endpoint volumes, data capture and pipeline jobs; models and jobs in the VPC, models
network-isolated where possible."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..core import (
    Level,
    Resource,
    Stack,
    Verdict,
    as_list,
    failed,
    first,
    not_applicable,
    parse_json,
    passed,
    resource_rule,
    stack_rule,
    truthy,
)

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"

INSTANCE_STORAGE = re.compile(
    r"^ml\.(c5d|c6gd|m5d|m6gd|r5d|r6gd|r7gd|g4dn|g5|g6|g6e|g7|g7e|p3dn|p4d|p4de|p5|p5e|p5en|p6-b200|p6-b300|"
    r"p6e-gb200|trn1|trn1n|trn2|dl1)\."
)
"""Instance families whose volumes are local NVMe storage. SageMaker rejects a KmsKeyId for them: their
storage is encrypted by the instance hardware instead."""


@resource_rule(
    "MLOPS-SM-001",
    Level.MANDATORY,
    types=[ENDPOINT_CONFIG],
    description="Endpoint configurations encrypt the ML storage volumes with a customer-managed key.",
    remediation="Set kms_key_arn to the environment's key (components.serving does when given kms_key_arn).",
)
def endpoint_volume_kms(config: Resource) -> Verdict:
    """kmsKeyArn set, unless no variant has an EBS volume to encrypt."""
    if config.get("kmsKeyArn"):
        return passed()
    variants = as_list(config.get("productionVariants"))
    ebs = [
        v
        for v in variants
        if not v.get("serverlessConfig") and not INSTANCE_STORAGE.match(str(v.get("instanceType", "")))
    ]
    if variants and not ebs:
        return not_applicable("serverless or instance-storage variants only: SageMaker takes no volume key")
    return failed("kms_key_arn is not set: endpoint volumes use an AWS-managed key")


@resource_rule(
    "MLOPS-SM-002",
    Level.MANDATORY,
    types=[ENDPOINT_CONFIG],
    description="Data capture (requests and predictions written to S3) is encrypted with a customer-managed key.",
    remediation="Set data_capture_config.kms_key_id to the environment's key.",
)
def data_capture_kms(config: Resource) -> Verdict:
    """dataCaptureConfig.kmsKeyId when capture is configured."""
    capture = first(config.get("dataCaptureConfig"))
    if not capture or not truthy(capture.get("enableCapture", True)):
        return not_applicable("no data capture")
    return passed() if capture.get("kmsKeyId") else failed("data capture has no kms_key_id")


def _serverless_only(model: Resource, stack: Stack) -> bool:
    """The model is served only by serverless variants, which support neither a VPC nor network isolation."""
    configs = stack.referencing(model, ENDPOINT_CONFIG, "productionVariants")
    variants = [v for c in configs for v in as_list(c.get("productionVariants"))]
    return bool(variants) and all(v.get("serverlessConfig") for v in variants)


SERVERLESS = "served by serverless endpoints only, which support neither VPC configuration nor network isolation"


@stack_rule(
    "MLOPS-SM-003",
    Level.MANDATORY,
    types=[MODEL],
    description="Models run in the platform VPC (subnets and security groups set), unless only serverless "
    "endpoints serve them.",
    remediation="Set vpc_config={'subnets': <private subnet ids>, 'security_group_ids': [<model SG>]}.",
)
def model_in_vpc(model: Resource, stack: Stack) -> Verdict:
    """vpcConfig with subnets and security groups."""
    if _serverless_only(model, stack):
        return not_applicable(SERVERLESS)
    vpc = first(model.get("vpcConfig"))
    missing = [k for k in ("subnets", "securityGroupIds") if not as_list(vpc.get(k))]
    if missing:
        return failed(f"vpc_config lacks {' and '.join(missing)}: the model runs outside the VPC")
    return passed()


@stack_rule(
    "MLOPS-SM-004",
    Level.ADVISORY,
    types=[MODEL],
    description="Models run with network isolation (no outbound calls from the container), unless only "
    "serverless endpoints serve them.",
    remediation="Set enable_network_isolation=True unless the container must call out (then say why in a suppression).",
)
def model_network_isolation(model: Resource, stack: Stack) -> Verdict:
    """enableNetworkIsolation."""
    if _serverless_only(model, stack):
        return not_applicable(SERVERLESS)
    return passed() if truthy(model.get("enableNetworkIsolation")) else failed("network isolation is off")


PIPELINE = "aws:sagemaker/pipeline:Pipeline"


def _job_steps(steps: Any) -> list[dict]:
    """Training, processing and transform steps of a pipeline definition, condition branches included."""
    found = []
    for step in as_list(steps):
        if not isinstance(step, Mapping):
            continue
        arguments = step.get("Arguments") or {}
        if step.get("Type") in ("Training", "Processing", "Transform"):
            found.append(step)
        elif step.get("Type") == "Condition":
            found += _job_steps(arguments.get("IfSteps")) + _job_steps(arguments.get("ElseSteps"))
    return found


def _local_storage(instance_type: Any, defaults: Mapping[str, Any]) -> bool:
    """An instance type with NVMe instance storage: a literal, or a pipeline parameter's default (the deployed
    template variant is chosen for that default)."""
    if isinstance(instance_type, Mapping) and str(instance_type.get("Get", "")).startswith("Parameters."):
        instance_type = defaults.get(instance_type["Get"].removeprefix("Parameters."))
    return isinstance(instance_type, str) and bool(INSTANCE_STORAGE.match(instance_type))


def _missing_keys(step: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> list[str]:
    """The KMS settings a job step lacks: output key always, volume key unless the instance has local storage."""
    defaults = defaults or {}
    args = step.get("Arguments") or {}
    kind = step.get("Type")
    if kind == "Training":
        resources = args.get("ResourceConfig") or {}
        checks = [("OutputDataConfig.KmsKeyId", (args.get("OutputDataConfig") or {}).get("KmsKeyId"))]
        if not _local_storage(resources.get("InstanceType"), defaults):
            checks.append(("ResourceConfig.VolumeKmsKeyId", resources.get("VolumeKmsKeyId")))
    elif kind == "Processing":
        cluster = (args.get("ProcessingResources") or {}).get("ClusterConfig") or {}
        checks = [("ProcessingOutputConfig.KmsKeyId", (args.get("ProcessingOutputConfig") or {}).get("KmsKeyId"))]
        if not _local_storage(cluster.get("InstanceType"), defaults):
            checks.append(("ProcessingResources.ClusterConfig.VolumeKmsKeyId", cluster.get("VolumeKmsKeyId")))
    else:
        resources = args.get("TransformResources") or {}
        checks = [("TransformOutput.KmsKeyId", (args.get("TransformOutput") or {}).get("KmsKeyId"))]
        if not _local_storage(resources.get("InstanceType"), defaults):
            checks.append(("TransformResources.VolumeKmsKeyId", resources.get("VolumeKmsKeyId")))
    return [name for name, value in checks if not value]


def _definition_steps(pipeline: Resource) -> list[dict] | None:
    definition = parse_json(pipeline.get("pipelineDefinition"))
    if not isinstance(definition, Mapping):
        return None
    return _job_steps(definition.get("Steps"))


@resource_rule(
    "MLOPS-SM-005",
    Level.MANDATORY,
    types=[PIPELINE],
    description="Pipeline training, processing and transform steps encrypt their outputs and ML volumes with KMS.",
    remediation="Pass output_kms_key and volume_kms_key (the env key) to the sagemaker SDK estimators, "
    "processors and transformers (volume keys are omitted only for instance types with local NVMe storage).",
)
def pipeline_steps_kms(pipeline: Resource) -> Verdict:
    """Every job step names its output key (and volume key where SageMaker accepts one)."""
    steps = _definition_steps(pipeline)
    if steps is None:
        return not_applicable("no inline pipeline definition (pipelineDefinitionS3Location is not read)")
    if not steps:
        return not_applicable("no training, processing or transform steps")
    definition = parse_json(pipeline.get("pipelineDefinition"))
    defaults = {
        p.get("Name"): p.get("DefaultValue") for p in as_list(definition.get("Parameters")) if isinstance(p, Mapping)
    }
    bad = [f"{s.get('Name', '?')}: {', '.join(m)}" for s in steps if (m := _missing_keys(s, defaults))]
    return failed("steps without KMS: " + "; ".join(bad)) if bad else passed(f"{len(steps)} job steps encrypted")


@resource_rule(
    "MLOPS-SM-006",
    Level.ADVISORY,
    types=[PIPELINE],
    description="Pipeline training and processing steps run in the platform VPC.",
    remediation="Pass subnets and security_group_ids (network_config for processors) to the sagemaker SDK "
    "estimators and processors.",
)
def pipeline_steps_in_vpc(pipeline: Resource) -> Verdict:
    """Training steps have VpcConfig; processing steps NetworkConfig.VpcConfig."""
    steps = _definition_steps(pipeline)
    jobs = [s for s in steps or [] if s.get("Type") in ("Training", "Processing")]
    if not jobs:
        return not_applicable("no training or processing steps")
    outside = []
    for step in jobs:
        args = step.get("Arguments") or {}
        vpc = (
            args.get("VpcConfig") if step["Type"] == "Training" else (args.get("NetworkConfig") or {}).get("VpcConfig")
        )
        if not (vpc or {}).get("Subnets"):
            outside.append(str(step.get("Name", "?")))
    return failed(f"steps outside the VPC: {', '.join(outside)}") if outside else passed()
