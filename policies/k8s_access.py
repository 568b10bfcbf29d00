"""Who may do what on the training cluster's Kubernetes API, decided from a plan: EKS access entries, the EKS access
policies associated with them (cluster or namespace scope), and the Kubernetes RBAC objects the plan registers
(Role, ClusterRole, RoleBinding, ClusterRoleBinding) for the entries' Kubernetes groups.

How EKS decides (EKS User Guide, "Grant IAM users access to Kubernetes with EKS access entries" and "Review access
policy permissions", https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html): an IAM
principal without an access entry is not authenticated (with `authenticationMode: API` there is no aws-auth
ConfigMap); with one, a request is allowed when an associated access policy's rules allow it within the
association's scope, or when Kubernetes RBAC allows it for one of the entry's `kubernetesGroups`. Both only allow:
nothing denies. RBAC (Kubernetes docs, "Using RBAC Authorization"): a ClusterRoleBinding grants its role everywhere,
a RoleBinding only in its namespace (also when it refers to a ClusterRole); `resourceNames` limit a rule to the
named objects (never matched here: the questions are about any object of a kind).

`ACCESS_POLICY_RULES` copies the rules of the access policies the platform associates from that AWS page; an
unknown policy is an error, never silently "no access".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
RBAC = "kubernetes:rbac.authorization.k8s.io/v1:"
POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/"

_READ = ("get", "list", "watch")
_VIEW_CORE = ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
              "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
              "services/status", "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
              "replicationcontrollers/status", "resourcequotas", "resourcequotas/status", "namespaces"]  # fmt: skip
_VIEW_RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": ["apps"], "verbs": _READ,
     "resources": ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                   "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                   "statefulsets/scale", "statefulsets/status"]},
    {"apiGroups": ["autoscaling"], "verbs": _READ,
     "resources": ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]},
    {"apiGroups": ["batch"], "verbs": _READ, "resources": ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]},
    {"apiGroups": ["discovery.k8s.io"], "verbs": _READ, "resources": ["endpointslices"]},
    {"apiGroups": ["extensions"], "verbs": _READ,
     "resources": ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                   "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale",
                   "replicasets/status", "replicationcontrollers/scale"]},
    {"apiGroups": ["networking.k8s.io"], "verbs": _READ,
     "resources": ["ingresses", "ingresses/status", "networkpolicies"]},
    {"apiGroups": ["policy"], "verbs": _READ, "resources": ["poddisruptionbudgets", "poddisruptionbudgets/status"]},
    {"apiGroups": [""], "verbs": _READ, "resources": _VIEW_CORE},
)  # fmt: skip

ACCESS_POLICY_RULES: Mapping[str, tuple[dict[str, Any], ...]] = {
    "AmazonEKSClusterAdminPolicy": ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},),
    "AmazonEKSAdminViewPolicy": ({"apiGroups": ["*"], "resources": ["*"], "verbs": list(_READ)},),
    "AmazonEKSViewPolicy": _VIEW_RULES,
    "AmazonEKSSecretReaderPolicy": ({"apiGroups": [""], "resources": ["secrets"], "verbs": list(_READ)},),
}
"""Rules of the EKS access policies, as AWS publishes them ("Review access policy permissions"). AmazonEKSViewPolicy
has no `secrets`; AmazonEKSAdminViewPolicy reads every resource, "Note this includes Kubernetes Secrets"."""


@dataclass(frozen=True)
class Ask:
    """One Kubernetes API request."""

    verb: str
    """get, list, watch, create, update, patch, delete, ..."""
    resource: str
    """Plural resource name, e.g. `secrets`, `pods`, `nodepools`."""
    api_group: str = ""
    """API group, `` for the core group."""
    namespace: str | None = None
    """Namespace of the request; None for a cluster-scoped resource or an all-namespaces request."""


@dataclass
class ClusterAccess:
    """The cluster's authentication and authorization data, from a plan."""

    groups: dict[str, list[str]]
    """Kubernetes groups by principal ARN; a principal with an access entry appears (with [] if it has none)."""
    policies: dict[str, list[tuple[str, tuple[str, ...] | None]]]
    """(access policy name, namespaces or None for the cluster) by principal ARN."""
    roles: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    """Rules of Roles by (namespace, name) and of ClusterRoles by ("", name)."""
    bindings: list[tuple[str | None, str, str, list[dict[str, Any]]]] = field(default_factory=list)
    """(namespace or None for a ClusterRoleBinding, referenced kind, referenced name, subjects)."""

    def authenticated(self, principal: str) -> bool:
        """Whether the principal has an access entry (EKS maps it to a Kubernetes identity at all)."""
        return principal in self.groups

    def allows(self, principal: str, ask: Ask) -> bool:
        """Whether the principal's access policies or its groups' RBAC allow `ask`."""
        if not self.authenticated(principal):
            return False
        for policy, namespaces in self.policies.get(principal, []):
            if namespaces is not None and (ask.namespace is None or ask.namespace not in namespaces):
                continue
            if any(_rule_allows(rule, ask) for rule in ACCESS_POLICY_RULES[policy]):
                return True
        groups = set(self.groups[principal])
        for namespace, kind, name, subjects in self.bindings:
            if not any(s.get("kind") == "Group" and s.get("name") in groups for s in subjects):
                continue
            if namespace is not None and ask.namespace != namespace:
                continue
            rules = self.roles.get(("", name) if kind == "ClusterRole" else (namespace or "", name), [])
            if any(_rule_allows(rule, ask) for rule in rules):
                return True
        return False


def _rule_allows(rule: Mapping[str, Any], ask: Ask) -> bool:
    if rule.get("resourceNames"):
        return False  # limited to named objects: not "any object of the kind"
    return (
        _matches(rule.get("apiGroups", []), ask.api_group)
        and _matches(rule.get("resources", []), ask.resource)
        and _matches(rule.get("verbs", []), ask.verb)
    )


def _matches(values: Sequence[str], value: str) -> bool:
    return "*" in values or value in values


def cluster_access(plan: Mapping[str, Any]) -> ClusterAccess:
    """The access entries, policy associations and RBAC objects of a plan dict (`Plan.to_dict()` shape)."""
    resources = plan["resources"]
    groups: dict[str, list[str]] = {}
    policies: dict[str, list[tuple[str, tuple[str, ...] | None]]] = {}
    access = ClusterAccess(groups=groups, policies=policies)
    for r in resources:
        inputs = r["inputs"]
        if r["type"] == ENTRY and inputs.get("type", "STANDARD") == "STANDARD":
            groups[inputs["principalArn"]] = list(inputs.get("kubernetesGroups") or [])
        elif r["type"] == ASSOCIATION:
            name = inputs["policyArn"].removeprefix(POLICY_ARN)
            if name not in ACCESS_POLICY_RULES:
                raise ValueError(f"{r['name']}: access policy {name!r} has no rules in ACCESS_POLICY_RULES")
            scope = inputs["accessScope"]
            namespaces = tuple(scope["namespaces"]) if scope["type"] == "namespace" else None
            policies.setdefault(inputs["principalArn"], []).append((name, namespaces))
        elif r["type"].startswith(RBAC):
            kind = r["type"].removeprefix(RBAC)
            meta = inputs["metadata"]
            if kind in ("Role", "ClusterRole"):
                access.roles[(meta.get("namespace", "") if kind == "Role" else "", meta["name"])] = list(
                    inputs.get("rules") or []
                )
            elif kind in ("RoleBinding", "ClusterRoleBinding"):
                namespace = meta["namespace"] if kind == "RoleBinding" else None
                ref = inputs["roleRef"]
                access.bindings.append((namespace, ref["kind"], ref["name"], list(inputs.get("subjects") or [])))
    return access
