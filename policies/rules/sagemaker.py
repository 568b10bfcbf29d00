"""SageMaker: KMS on endpoint volumes and data capture; models in the VPC, network-isolated where possible."""

from __future__ import annotations

import re

from ..core import Level, Resource, Verdict, as_list, failed, first, not_applicable, passed, resource_rule, truthy

ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"

INSTANCE_STORAGE = re.compile(r"^ml\.(m5d|c5d|r5d|m6id|c6id|r6id|g4dn|g5|g6|g6e|p3dn|p4d|p4de|p5|p5e|p5en)\.")
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


@resource_rule(
    "MLOPS-SM-003",
    Level.MANDATORY,
    types=[MODEL],
    description="Models run in the platform VPC (subnets and security groups set).",
    remediation="Set vpc_config={'subnets': <private subnet ids>, 'security_group_ids': [<model SG>]}.",
)
def model_in_vpc(model: Resource) -> Verdict:
    """vpcConfig with subnets and security groups."""
    vpc = first(model.get("vpcConfig"))
    missing = [k for k in ("subnets", "securityGroupIds") if not as_list(vpc.get(k))]
    return failed(f"vpc_config lacks {' and '.join(missing)}: the model runs outside the VPC") if missing else passed()


@resource_rule(
    "MLOPS-SM-004",
    Level.ADVISORY,
    types=[MODEL],
    description="Models run with network isolation (no outbound calls from the container).",
    remediation="Set enable_network_isolation=True unless the container must call out (then say why in a suppression).",
)
def model_network_isolation(model: Resource) -> Verdict:
    """enableNetworkIsolation."""
    return passed() if truthy(model.get("enableNetworkIsolation")) else failed("network isolation is off")
