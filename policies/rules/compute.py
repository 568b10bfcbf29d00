"""EKS and EC2: private API endpoint, envelope-encrypted secrets, control-plane logs, IMDSv2 on nodes (launch
templates and Karpenter node classes)."""

from __future__ import annotations

from ..core import Level, Resource, Verdict, as_list, failed, first, not_applicable, passed, resource_rule, truthy
from .network import ANYWHERE

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"

REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")


@resource_rule(
    "MLOPS-EKS-001",
    Level.MANDATORY,
    types=[CLUSTER],
    description="The EKS API endpoint is private; a public endpoint needs explicit CIDRs, never 0.0.0.0/0.",
    remediation="Set vpc_config.endpoint_private_access=True and endpoint_public_access=False, or list the "
    "allowed public_access_cidrs when a public endpoint is an explicit opt-in.",
)
def eks_private_endpoint(cluster: Resource) -> Verdict:
    """Private access on; public access off or limited to named CIDRs."""
    vpc = first(cluster.get("vpcConfig"))
    if not truthy(vpc.get("endpointPrivateAccess")):
        return failed("endpoint_private_access is off")
    # EKS turns the public endpoint on when endpoint_public_access is unset.
    if not truthy(vpc.get("endpointPublicAccess", True)):
        return passed("private endpoint only")
    cidrs = [str(c) for c in as_list(vpc.get("publicAccessCidrs"))]
    if not cidrs or any(c in ANYWHERE for c in cidrs):
        return failed("public endpoint open to " + (", ".join(cidrs) if cidrs else "0.0.0.0/0 (default)"))
    return passed(f"public endpoint limited to {', '.join(cidrs)}")


@resource_rule(
    "MLOPS-EKS-002",
    Level.MANDATORY,
    types=[CLUSTER],
    description="Kubernetes secrets are envelope-encrypted with a customer-managed KMS key.",
    remediation="Set encryption_config={'resources': ['secrets'], 'provider': {'key_arn': <env key ARN>}}.",
)
def eks_secrets_encryption(cluster: Resource) -> Verdict:
    """encryptionConfig covers secrets with a key ARN."""
    config = first(cluster.get("encryptionConfig"))
    if "secrets" not in as_list(config.get("resources")):
        return failed("secrets are not envelope-encrypted (no encryption_config for 'secrets')")
    if not first(config.get("provider")).get("keyArn"):
        return failed("encryption_config has no provider.key_arn")
    return passed()


@resource_rule(
    "MLOPS-EKS-003",
    Level.MANDATORY,
    types=[CLUSTER],
    description="The control plane ships api, audit and authenticator logs to CloudWatch.",
    remediation="Set enabled_cluster_log_types to include api, audit and authenticator "
    "(controllerManager and scheduler are optional).",
)
def eks_control_plane_logs(cluster: Resource) -> Verdict:
    """api, audit and authenticator log types on."""
    enabled = set(map(str, as_list(cluster.get("enabledClusterLogTypes"))))
    missing = [t for t in REQUIRED_LOG_TYPES if t not in enabled]
    return failed(f"control-plane log types missing: {', '.join(missing)}") if missing else passed()


@resource_rule(
    "MLOPS-EKS-004",
    Level.MANDATORY,
    types=[NODE_GROUP],
    description="Managed node groups launch from a launch template (which is where IMDSv2 is enforced).",
    remediation="Create an aws.ec2.LaunchTemplate with metadata_options.http_tokens='required' and pass it as "
    "launch_template={'id': ..., 'version': ...}.",
)
def node_group_launch_template(node_group: Resource) -> Verdict:
    """launchTemplate has an id or a name."""
    template = first(node_group.get("launchTemplate"))
    if template.get("id") or template.get("name"):
        return passed()
    return failed("no launch template: the nodes get EKS's default instance metadata settings")


@resource_rule(
    "MLOPS-EC2-001",
    Level.MANDATORY,
    types=[LAUNCH_TEMPLATE],
    description="Launch templates require IMDSv2 (session tokens) for instance metadata.",
    remediation="Set metadata_options={'http_tokens': 'required', 'http_endpoint': 'enabled', "
    "'http_put_response_hop_limit': 1 or 2}.",
)
def launch_template_imdsv2(template: Resource) -> Verdict:
    """httpTokens required, or the metadata endpoint disabled."""
    options = first(template.get("metadataOptions"))
    if options.get("httpEndpoint") == "disabled":
        return passed("instance metadata endpoint disabled")
    tokens = options.get("httpTokens")
    return (
        passed("IMDSv2 required")
        if tokens == "required"
        else failed(f"http_tokens is {tokens or 'unset'}, so IMDSv1 is allowed")
    )


@resource_rule(
    "MLOPS-EC2-002",
    Level.ADVISORY,
    types=[LAUNCH_TEMPLATE],
    description="EBS volumes declared in launch templates are encrypted.",
    remediation="Set block_device_mappings[].ebs.encrypted='true' (and kms_key_id to the env key).",
)
def launch_template_ebs_encrypted(template: Resource) -> Verdict:
    """Every EBS block device mapping is encrypted."""
    volumes = [m.get("ebs") for m in as_list(template.get("blockDeviceMappings")) if m.get("ebs")]
    if not volumes:
        return not_applicable("no EBS block device mappings (the AMI's and account defaults apply)")
    plain = [
        str(m.get("deviceName"))
        for m in as_list(template.get("blockDeviceMappings"))
        if m.get("ebs") and not truthy(first(m.get("ebs")).get("encrypted"))
    ]
    return failed(f"unencrypted EBS volumes: {', '.join(plain)}") if plain else passed()


NODE_CLASS = "kubernetes:karpenter.k8s.aws/*:EC2NodeClass"


@resource_rule(
    "MLOPS-EC2-003",
    Level.MANDATORY,
    types=[NODE_CLASS],
    description="Karpenter node classes keep IMDSv2 required (Karpenter's default) for the nodes they launch.",
    remediation="Leave spec.metadataOptions unset or set httpTokens: required (httpPutResponseHopLimit: 1 keeps "
    "pods off the node's credentials).",
)
def node_class_imdsv2(node_class: Resource) -> Verdict:
    """spec.metadataOptions.httpTokens is required or unset (Karpenter defaults to required)."""
    options = first(first(node_class.get("spec")).get("metadataOptions"))
    if options.get("httpEndpoint") == "disabled":
        return passed("instance metadata endpoint disabled")
    tokens = options.get("httpTokens", "required")
    return passed("IMDSv2 required") if tokens == "required" else failed(f"httpTokens is {tokens}: IMDSv1 allowed")


@resource_rule(
    "MLOPS-EC2-004",
    Level.ADVISORY,
    types=[NODE_CLASS],
    description="EBS volumes of Karpenter node classes are encrypted.",
    remediation="Set spec.blockDeviceMappings[].ebs.encrypted: true and kmsKeyID to the env key.",
)
def node_class_ebs_encrypted(node_class: Resource) -> Verdict:
    """Every blockDeviceMappings[].ebs is encrypted."""
    mappings = [m for m in as_list(first(node_class.get("spec")).get("blockDeviceMappings")) if m.get("ebs")]
    if not mappings:
        return not_applicable("no block device mappings (the AMI family's defaults apply)")
    plain = [str(m.get("deviceName")) for m in mappings if not truthy(first(m.get("ebs")).get("encrypted"))]
    return failed(f"unencrypted EBS volumes: {', '.join(plain)}") if plain else passed()
