"""Preview labels of the training platform's resources: what a reviewer checks on the cluster, nodes, GPU pools
and tenants (exposure, encryption, IMDS, taints, quotas, scale-to-zero)."""

from __future__ import annotations

from collections.abc import Callable

from mlops_platform.infra.tooling.offline import Plan, PlannedResource


def _cluster(resource: PlannedResource, plan: Plan) -> list[str]:
    inputs = resource.inputs
    vpc = inputs.get("vpcConfig", {})
    labels = [f"k8s {inputs.get('version')}"]
    if vpc.get("endpointPublicAccess"):
        labels.append(f"PUBLIC endpoint from {', '.join(vpc.get('publicAccessCidrs') or ['0.0.0.0/0'])}")
    else:
        labels.append("private endpoint")
    resources = [r for config in [inputs.get("encryptionConfig") or {}] for r in config.get("resources", [])]
    labels.append("secrets KMS" if "secrets" in resources else "SECRETS NOT ENCRYPTED")
    labels.append(f"{len(inputs.get('enabledClusterLogTypes') or [])}/5 log types")
    labels.append(f"auth {inputs.get('accessConfig', {}).get('authenticationMode', 'CONFIG_MAP')}")
    if inputs.get("deletionProtection"):
        labels.append("deletion protection")
    return labels


def _launch_template(resource: PlannedResource, plan: Plan) -> list[str]:
    metadata = resource.inputs.get("metadataOptions", {})
    labels = [
        "IMDSv2 only" if metadata.get("httpTokens") == "required" else "IMDSv1 ALLOWED",
        f"hop limit {metadata.get('httpPutResponseHopLimit', 1):g}",
    ]
    for mapping in resource.inputs.get("blockDeviceMappings", []):
        ebs = mapping.get("ebs", {})
        labels.append("EBS KMS" if ebs.get("encrypted") == "true" and ebs.get("kmsKeyId") else "EBS NOT CMK-ENCRYPTED")
    return labels


def _node_group(resource: PlannedResource, plan: Plan) -> list[str]:
    scaling = resource.inputs.get("scalingConfig", {})
    return [
        f"{resource.inputs.get('capacityType', 'ON_DEMAND')} {', '.join(resource.inputs.get('instanceTypes', []))}",
        f"{scaling.get('minSize', 0):g}-{scaling.get('maxSize', 0):g} nodes",
    ]


def _node_pool(resource: PlannedResource, plan: Plan) -> list[str]:
    spec = resource.inputs.get("spec", {})
    template = spec.get("template", {}).get("spec", {})
    requirements = {r["key"]: r.get("values", []) for r in template.get("requirements", [])}
    families = requirements.get("node.kubernetes.io/instance-type") or requirements.get(
        "karpenter.k8s.aws/instance-family", []
    )
    disruption = spec.get("disruption", {})
    taints = [f"{t['key']}:{t['effect']}" for t in template.get("taints", [])]
    return [
        ", ".join(families),
        "+".join(requirements.get("karpenter.sh/capacity-type", [])),
        f"≤ {spec.get('limits', {}).get('nvidia.com/gpu', '∞')} GPUs",
        f"taint {', '.join(taints) or 'NONE'}",
        f"{disruption.get('consolidationPolicy')} after {disruption.get('consolidateAfter')}",
    ]


def _node_class(resource: PlannedResource, plan: Plan) -> list[str]:
    spec = resource.inputs.get("spec", {})
    metadata = spec.get("metadataOptions", {})
    labels = [
        ", ".join(term.get("alias", "custom AMI") for term in spec.get("amiSelectorTerms", [])),
        "IMDSv2 only" if metadata.get("httpTokens") == "required" else "IMDSv1 ALLOWED",
        f"hop limit {metadata.get('httpPutResponseHopLimit', 1):g}",
    ]
    volumes = [m.get("ebs", {}) for m in spec.get("blockDeviceMappings", [])]
    labels.append("EBS KMS" if volumes and all(v.get("encrypted") and v.get("kmsKeyID") for v in volumes) else "EBS?")
    if group := spec.get("placementGroupSelector"):
        labels.append(f"placement group {group.get('name') or group.get('id')}")
    return labels


def _release(resource: PlannedResource, plan: Plan) -> list[str]:
    return [
        f"{resource.inputs.get('chart')}@{resource.inputs.get('version')}",
        f"ns {resource.inputs.get('namespace')}",
    ]


def _quota(resource: PlannedResource, plan: Plan) -> list[str]:
    hard = resource.inputs.get("spec", {}).get("hard", {})
    return [f"{key.removeprefix('requests.')}={value}" for key, value in sorted(hard.items())]


def _cluster_queue(resource: PlannedResource, plan: Plan) -> list[str]:
    spec = resource.inputs.get("spec", {})
    labels = [f"cohort {spec.get('cohort')}"]
    for group in spec.get("resourceGroups", []):
        for flavor in group.get("flavors", []):
            for item in flavor.get("resources", []):
                if item["name"] == "nvidia.com/gpu":
                    labels.append(
                        f"{flavor['name']}: {item['nominalQuota']:g} GPUs (borrow ≤ {item.get('borrowingLimit', 0):g})"
                    )
    return labels


def _network_policy(resource: PlannedResource, plan: Plan) -> list[str]:
    spec = resource.inputs.get("spec", {})
    if not spec.get("ingress") and not spec.get("egress"):
        return [f"deny all {'+'.join(spec.get('policyTypes', []))}"]
    blocks = [
        peer["ipBlock"]["cidr"] for rule in spec.get("egress", []) for peer in rule.get("to", []) if "ipBlock" in peer
    ]
    return [f"egress {', '.join(blocks)} + DNS + namespace"]


def _queue(resource: PlannedResource, plan: Plan) -> list[str]:
    if resource.inputs.get("kmsMasterKeyId"):
        return ["SSE-KMS"]
    return ["SSE-SQS" if resource.inputs.get("sqsManagedSseEnabled") else "UNENCRYPTED"]


def _access_entry(resource: PlannedResource, plan: Plan) -> list[str]:
    groups = resource.inputs.get("kubernetesGroups") or []
    return [resource.inputs.get("type", "STANDARD"), *(f"group {g}" for g in groups)]


def _access_policy(resource: PlannedResource, plan: Plan) -> list[str]:
    scope = resource.inputs.get("accessScope", {})
    where = ", ".join(scope.get("namespaces") or []) if scope.get("type") == "namespace" else "cluster-wide"
    return [resource.inputs.get("policyArn", "").rsplit("/", 1)[-1], where]


def _addon(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = [f"Pod Identity {a['serviceAccount']}" for a in resource.inputs.get("podIdentityAssociations", [])]
    if '"enableNetworkPolicy": "true"' in resource.inputs.get("configurationValues", ""):
        labels.append("network policies enforced")
    return labels


def _pod_identity(resource: PlannedResource, plan: Plan) -> list[str]:
    return [f"{resource.inputs.get('namespace')}/{resource.inputs.get('serviceAccount')}"]


EXTRACTORS: dict[str, Callable[[PlannedResource, Plan], list[str]]] = {
    "aws:eks/cluster:Cluster": _cluster,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:eks/accessEntry:AccessEntry": _access_entry,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _access_policy,
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _pod_identity,
    "aws:eks/addon:Addon": _addon,
    "aws:sqs/queue:Queue": _queue,
    "kubernetes:karpenter.sh/v1:NodePool": _node_pool,
    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass": _node_class,
    "kubernetes:helm.sh/v3:Release": _release,
    "kubernetes:core/v1:ResourceQuota": _quota,
    "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue": _cluster_queue,
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": _network_policy,
}
"""Labels by resource type, merged into `infra.tooling.report`'s table."""


def markdown_lines(plan: Plan) -> list[str]:
    """The pull-request summary's GPU training table: the cluster, each GPU pool and each team's queue."""
    clusters = plan.of_type("aws:eks/cluster:Cluster")
    if not clusters:
        return []
    rows = [f"| cluster `{c.name}` | {', '.join(_cluster(c, plan))} |" for c in clusters]
    rows += [
        f"| pool `{p.inputs['metadata']['name']}` | {', '.join(_node_pool(p, plan))} |"
        for p in plan.of_type("kubernetes:karpenter.sh/v1:NodePool")
    ]
    rows += [
        f"| team `{q.inputs['metadata']['name']}` | {', '.join(_cluster_queue(q, plan))} |"
        for q in plan.of_type("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue")
    ]
    return ["#### GPU training", "", "| what | settings |", "|---|---|", *rows, ""]
