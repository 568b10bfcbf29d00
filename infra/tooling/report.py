"""Human summaries of a `Plan`: the key settings of each resource, counts by type, and Markdown."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from mlops_platform.infra.tooling import report_serving
from mlops_platform.infra.tooling.offline import Plan, PlannedResource
from mlops_platform.infra.tooling.report_governance import GOVERNANCE_EXTRACTORS
from mlops_platform.infra.tooling.report_pipelines import PIPELINE_EXTRACTORS
from mlops_platform.infra.tooling.report_training import EXTRACTORS as TRAINING_EXTRACTORS
from mlops_platform.infra.tooling.report_training import markdown_lines as training_lines

STATEFUL_TYPES = (
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:ecr/repository:Repository",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
    "aws:sagemaker/featureGroup:FeatureGroup",
)
"""Resources that hold data: protected and retained in prod, and snapshotted by URN in the tests."""


def counts_by_type(plan: Plan) -> list[tuple[str, int]]:
    """(type, count) for every resource type, most frequent first, then by name."""
    counts = Counter(r.type for r in plan.resources)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def key_settings(resource: PlannedResource, plan: Plan) -> list[str]:
    """Short labels for what matters about this resource: encryption, protection, exposure."""
    labels = _EXTRACTORS.get(resource.type, lambda r, p: [])(resource, plan)
    if resource.type not in STATEFUL_TYPES:
        return labels
    if resource.options.get("protect"):
        labels.append("protected")
    if resource.options.get("retain_on_delete"):
        labels.append("retained on delete")
    return labels


def short_type(type_: str) -> str:
    """`aws:s3/bucketPolicy:BucketPolicy` -> `s3.BucketPolicy`; component tokens stay whole."""
    package, module, name = [*type_.split(":"), "", ""][:3]
    if package == "mlops" or not name:
        return type_
    return f"{module.split('/')[0]}.{name}" if module != "index" else name


def _siblings(resource: PlannedResource, plan: Plan, type_: str) -> list[PlannedResource]:
    return [r for r in plan.children(resource.parent) if r.type == type_] if resource.parent else []


def _bucket(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = []
    for sse in _siblings(
        resource, plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ):
        default = sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]
        if default["sseAlgorithm"] == "aws:kms":
            labels.append(f"SSE-KMS {_short_arn(default.get('kmsMasterKeyId', ''))}")
        else:
            labels.append("SSE-S3")
    if _siblings(resource, plan, "aws:s3/bucketVersioning:BucketVersioning"):
        labels.append("versioned")
    if _siblings(resource, plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        labels.append("public access blocked")
    if not _siblings(resource, plan, "aws:s3/bucketLogging:BucketLogging"):
        labels.append("no access logging")
    for lock in _siblings(resource, plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"):
        retention = lock.inputs["rule"]["defaultRetention"]
        labels.append(f"object lock {retention['mode']} {retention['days']:g}d")
    if resource.inputs.get("forceDestroy"):
        labels.append("force_destroy")
    return labels


def _key(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = ["rotation on" if resource.inputs.get("enableKeyRotation") else "ROTATION OFF"]
    labels.append(f"deletion window {resource.inputs.get('deletionWindowInDays', 30):g}d")
    return labels


def _role(resource: PlannedResource, plan: Plan) -> list[str]:
    trust = json.loads(resource.inputs.get("assumeRolePolicy", "{}"))
    principals = sorted({k for s in trust.get("Statement", []) for k in (s.get("Principal") or {})})
    labels = [f"trust {'+'.join(principals)}"]
    labels.append("boundary" if resource.inputs.get("permissionsBoundary") else "NO BOUNDARY")
    return labels


def _provider(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = []
    if region := resource.inputs.get("region"):
        labels.append(region)
    tags = resource.inputs.get("defaultTags")
    if isinstance(tags, str):
        tags = json.loads(tags)
    if tags:
        labels.append("default tags " + ", ".join(f"{k}={v}" for k, v in sorted(tags.get("tags", {}).items())))
    return labels


def _vpc(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = [resource.inputs.get("cidrBlock", "?")]
    flow_logs = _siblings(resource, plan, "aws:ec2/flowLog:FlowLog")
    labels.append(f"flow logs {flow_logs[0].inputs.get('trafficType')}" if flow_logs else "NO FLOW LOGS")
    endpoints = _siblings(resource, plan, "aws:ec2/vpcEndpoint:VpcEndpoint")
    interface = sum(1 for e in endpoints if e.inputs.get("vpcEndpointType") == "Interface")
    labels.append(f"{interface} interface + {len(endpoints) - interface} gateway endpoints")
    nats = _siblings(resource, plan, "aws:ec2/natGateway:NatGateway")
    subnets = _siblings(resource, plan, "aws:ec2/subnet:Subnet")
    zones = {s.inputs.get("availabilityZone") for s in subnets}
    mode = "none" if not nats else "per AZ" if len(nats) == len(zones) > 1 else "single"
    labels.append(f"{len(zones)} AZs, NAT {mode} ({len(nats)})")
    if not _siblings(resource, plan, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"):
        labels.append("DEFAULT SG OPEN")
    return labels


def _subnet(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = [resource.inputs.get("cidrBlock", "?"), str(resource.inputs.get("availabilityZone", "?"))]
    if resource.inputs.get("mapPublicIpOnLaunch"):
        labels.append("PUBLIC IPS ON LAUNCH")
    return labels


def _endpoint(resource: PlannedResource, plan: Plan) -> list[str]:
    kind = resource.inputs.get("vpcEndpointType", "Gateway")
    labels = [resource.inputs.get("serviceName", "?").rsplit(".", 1)[-1] if kind == "Gateway" else kind]
    if kind == "Interface":
        labels.append("private DNS" if resource.inputs.get("privateDnsEnabled") else "NO PRIVATE DNS")
    labels.append("endpoint policy" if resource.inputs.get("policy") else "NO ENDPOINT POLICY")
    return labels


def _flow_log(resource: PlannedResource, plan: Plan) -> list[str]:
    return [f"traffic {resource.inputs.get('trafficType')}", f"to {resource.inputs.get('logDestinationType')}"]


def _log_group(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = [f"KMS {_short_arn(key)}" if (key := resource.inputs.get("kmsKeyId")) else "NOT KMS-ENCRYPTED"]
    days = resource.inputs.get("retentionInDays")
    labels.append(f"retention {days:g}d" if days else "RETAINED FOREVER")
    labels += [
        label
        for flag, label in (("protect", "protected"), ("retain_on_delete", "retained on delete"))
        if resource.options.get(flag)
    ]
    return labels


def _ingress_rule(resource: PlannedResource, plan: Plan) -> list[str]:
    source = resource.inputs.get("cidrIpv4") or resource.inputs.get("referencedSecurityGroupId") or "?"
    ports = f"{resource.inputs.get('fromPort', 0):g}-{resource.inputs.get('toPort', 0):g}"
    label = f"{resource.inputs.get('ipProtocol')} {ports} from {source}"
    return [label.upper() if source == "0.0.0.0/0" else label]


def _default_sg(resource: PlannedResource, plan: Plan) -> list[str]:
    rules = len(resource.inputs.get("ingress") or []) + len(resource.inputs.get("egress") or [])
    return ["closed (no rules)"] if not rules else [f"{rules} RULES ON THE DEFAULT SG"]


def _repository(resource: PlannedResource, plan: Plan) -> list[str]:
    inputs = resource.inputs
    mutability = inputs.get("imageTagMutability", "MUTABLE")
    labels = ["immutable tags" if mutability == "IMMUTABLE" else f"TAGS {mutability}"]
    scanning = inputs.get("imageScanningConfiguration") or {}
    labels.append("scan on push" if scanning.get("scanOnPush") else "NO SCAN")
    encryption = (inputs.get("encryptionConfigurations") or [{}])[0]
    if encryption.get("encryptionType") == "KMS" and encryption.get("kmsKey"):
        labels.append(f"KMS {_short_arn(encryption['kmsKey'])}")
    else:
        labels.append("NO CMK (AES256)")
    for lifecycle in _siblings(resource, plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy"):
        rules = json.loads(lifecycle.inputs["policy"])["rules"]
        rules = {r["selection"]["tagStatus"]: r["selection"] for r in rules}
        if untagged := rules.get("untagged"):
            labels.append(f"untagged expire {untagged['countNumber']}d")
        if tagged := rules.get("tagged"):
            labels.append(f"keep {tagged['countNumber']} releases")
    if inputs.get("forceDelete"):
        labels.append("force_delete")
    return labels


def _topic(resource: PlannedResource, plan: Plan) -> list[str]:
    key = resource.inputs.get("kmsMasterKeyId")
    labels = [f"SSE-KMS {_short_arn(key)}" if key else "NOT ENCRYPTED"]
    subscriptions = _siblings(resource, plan, "aws:sns/topicSubscription:TopicSubscription")
    labels.append(f"{len(subscriptions)} subscription(s)" if subscriptions else "no subscribers")
    return labels


def _subscription(resource: PlannedResource, plan: Plan) -> list[str]:
    # Secret endpoints (https integration URLs) arrive here as `[secret]`, as `pulumi preview` shows them.
    return [f"{resource.inputs.get('protocol')} → {resource.inputs.get('endpoint')}"]


def _budget(resource: PlannedResource, plan: Plan) -> list[str]:
    inputs = resource.inputs
    limit = f"{float(inputs['limitAmount']):,.2f} {inputs.get('limitUnit', 'USD')}"
    labels = [f"limit {limit}/{inputs['timeUnit'].lower()}"]
    labels += [f"{f['name']}={','.join(f['values'])}" for f in inputs.get("costFilters") or []]
    notifications = [n for n in inputs.get("notifications") or [] if n.get("subscriberSnsTopicArns")]
    alerts = [f"{n['threshold']:g}% {n['notificationType'].lower()}" for n in notifications]
    labels.append(f"SNS at {', '.join(alerts)}" if alerts else "NO SNS ALERTS")
    return labels


def _model_group(resource: PlannedResource, plan: Plan) -> list[str]:
    accounts: set[str] = set()
    policy_type = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"
    for group_policy in _siblings(resource, plan, policy_type):
        for statement in json.loads(group_policy.inputs["resourcePolicy"])["Statement"]:
            principals = statement.get("Principal", {}).get("AWS", [])
            principals = [principals] if isinstance(principals, str) else principals
            accounts |= {p.split(":")[4] for p in principals}
    return [f"shared read-only with {', '.join(sorted(accounts))}"] if accounts else ["not shared"]


def _mlflow(resource: PlannedResource, plan: Plan) -> list[str]:
    inputs = resource.inputs
    size, store = inputs.get("trackingServerSize", "Small"), inputs.get("artifactStoreUri", "?")
    return [f"size {size}", f"artifacts {store}"]


def _short_arn(arn: str) -> str:
    return arn.rsplit("/", 1)[-1][:8] if arn else "?"


_EXTRACTORS: dict[str, Callable[[PlannedResource, Plan], list[str]]] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:kms/key:Key": _key,
    "aws:iam/role:Role": _role,
    "pulumi:providers:aws": _provider,
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:ec2/flowLog:FlowLog": _flow_log,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ingress_rule,
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _default_sg,
    "aws:ecr/repository:Repository": _repository,
    "aws:sns/topic:Topic": _topic,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:budgets/budget:Budget": _budget,
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": _model_group,
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": _mlflow,
}
_EXTRACTORS.update(report_serving.EXTRACTORS)
_EXTRACTORS.update(PIPELINE_EXTRACTORS)
_EXTRACTORS.update(TRAINING_EXTRACTORS)
_EXTRACTORS.update(GOVERNANCE_EXTRACTORS)


def _network_lines(plan: Plan) -> list[str]:
    vpcs = plan.of_type("aws:ec2/vpc:Vpc")
    if not vpcs:
        return []
    rows = [f"| `{v.name}` | {', '.join(key_settings(v, plan))} |" for v in vpcs]
    return ["#### Network", "", "| VPC | settings |", "|---|---|", *rows, ""]


def markdown(plan: Plan) -> str:
    """A pull-request comment: totals, stateful resources with their protections, counts by type."""
    stateful = [r for r in plan.resources if r.type in STATEFUL_TYPES]
    lines = [
        f"### Offline preview: `{plan.project}` / `{plan.stack}`",
        "",
        f"**{len(plan.resources)} resources** ({sum(1 for r in plan.resources if r.custom)} cloud resources "
        f"in {sum(1 for r in plan.resources if not r.custom)} components).",
        "",
        "#### Stateful resources",
        "",
        "| resource | type | settings |",
        "|---|---|---|",
        *(f"| `{r.name}` | `{r.type}` | {', '.join(key_settings(r, plan))} |" for r in stateful),
        "",
        *_network_lines(plan),
        *report_serving.markdown_section(plan),
        *training_lines(plan),
        "<details><summary>Resources by type</summary>",
        "",
        "| type | count |",
        "|---|---:|",
        *(f"| `{t}` | {n} |" for t, n in counts_by_type(plan)),
        "",
        "</details>",
    ]
    return "\n".join(lines) + "\n"
