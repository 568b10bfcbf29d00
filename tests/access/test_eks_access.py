"""Kubernetes access on the training cluster, decided by `policies.k8s_access` over the plans: people get view-only
access (no persona role holds an EKS admin, admin-view (Secrets) or edit policy); the pull-request previewer reaches
nothing; the CI drift reader reads exactly what `pulumi preview --refresh` reads: the objects the stack manages and
Helm's release records (Secrets) in the releases' namespaces, never Secrets elsewhere, never a write."""

from __future__ import annotations

import pytest
from mlops_platform.policies.k8s_access import Ask, ClusterAccess, cluster_access

from tests.conftest import STACKS, plan_for
from tests.k8s import as_manifest, kubernetes_objects, problems

ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"


@pytest.mark.parametrize("stack", STACKS)
def test_persona_roles_get_the_view_policy_only(stack):
    plan = plan_for(stack)
    roles = plan.outputs["roles"]
    people = {roles["data-scientist"], roles["ml-engineer"], roles["model-approver"]}
    granted = {(a.inputs["principalArn"], a.inputs["policyArn"]) for a in plan.of_type(ASSOCIATION)}
    assert {arn for arn, _ in granted} & people == {roles["data-scientist"], roles["ml-engineer"]}
    assert {policy for arn, policy in granted if arn in people} == {VIEW}
    scientist = next(a for a in plan.of_type(ASSOCIATION) if a.inputs["principalArn"] == roles["data-scientist"])
    assert scientist.inputs["accessScope"]["type"] == "namespace"  # team namespaces only


# --- CI: the pull-request previewer reads nothing on the cluster; the drift reader reads what refresh reads ------

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


def _access(stack: str) -> ClusterAccess:
    return cluster_access(plan_for(stack).to_dict())


def _role(stack: str, persona: str) -> str:
    return plan_for(stack).outputs["roles"][persona]


def _plural(kind: str) -> str:
    """Kubernetes' default plural of a kind (NetworkPolicy -> networkpolicies, StorageClass -> storageclasses)."""
    lower = kind.lower()
    return lower[:-1] + "ies" if lower.endswith("y") else lower + ("es" if lower.endswith("s") else "s")


def _managed(stack: str) -> list[Ask]:
    """A `get` of every Kubernetes object the stack manages (what pulumi-kubernetes' refresh does for each)."""
    asks = []
    for resource in kubernetes_objects(plan_for(stack)):
        manifest = as_manifest(resource)
        group = manifest["apiVersion"].rpartition("/")[0]
        asks.append(Ask("get", _plural(manifest["kind"]), group, manifest["metadata"].get("namespace")))
    return asks


def _namespaces(stack: str) -> set[str]:
    """Every namespace the plan names (objects, releases, access scopes), plus `default`."""
    plan = plan_for(stack)
    names = {"default", "kube-system"}
    for resource in plan.resources:
        names |= {resource.inputs.get("namespace") or "", (resource.inputs.get("metadata") or {}).get("namespace", "")}
        names |= set((resource.inputs.get("accessScope") or {}).get("namespaces", []))
    return names - {""}


@pytest.mark.parametrize("stack", STACKS)
def test_the_pull_request_previewer_cannot_reach_the_cluster_at_all(stack):
    access, previewer = _access(stack), _role(stack, "ci-previewer")
    assert not access.authenticated(previewer)  # no access entry: EKS maps it to no Kubernetes identity
    assert not any(access.allows(previewer, Ask("list", "secrets", "", ns)) for ns in [None, *_namespaces(stack)])


@pytest.mark.parametrize("stack", STACKS)
def test_the_drift_reader_can_refresh_every_object_the_stack_manages(stack):
    access, drift = _access(stack), _role(stack, "ci-drift")
    asks = _managed(stack)
    assert {a.resource for a in asks} >= {"namespaces", "storageclasses", "rolebindings", "nodepools", "clusterqueues"}
    assert [a for a in asks if not access.allows(drift, a)] == []


@pytest.mark.parametrize("stack", STACKS)
def test_the_drift_reader_reads_secrets_only_where_helm_keeps_release_records(stack):
    access, drift = _access(stack), _role(stack, "ci-drift")
    releases = {r.inputs["namespace"] for r in plan_for(stack).of_type(HELM_RELEASE)}
    assert releases == {"kube-system", "kueue-system"}
    readable = {ns for ns in _namespaces(stack) if access.allows(drift, Ask("list", "secrets", "", ns))}
    assert readable == releases  # helm.v3.Release's refresh lists them there; team namespaces stay closed
    assert not access.allows(drift, Ask("list", "secrets"))  # not cluster-wide


@pytest.mark.parametrize("stack", STACKS)
def test_the_drift_reader_changes_nothing_and_reads_no_workload(stack):
    access, drift = _access(stack), _role(stack, "ci-drift")
    for ask in _managed(stack):
        for verb in WRITE_VERBS:
            assert not access.allows(drift, Ask(verb, ask.resource, ask.api_group, ask.namespace)), (verb, ask)
    for namespace in _namespaces(stack):
        for resource in ("pods", "pods/exec", "pods/log", "configmaps"):
            assert not access.allows(drift, Ask("get", resource, "", namespace)), (resource, namespace)


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_deployer_and_the_drift_reader_read_any_secret(stack):
    access = _access(stack)
    readers = {
        principal
        for principal in access.groups
        for ns in [None, *_namespaces(stack)]
        if access.allows(principal, Ask("get", "secrets", "", ns))
    }
    assert readers == {_role(stack, "ci-deployer"), _role(stack, "ci-drift")}


def test_the_evaluator_follows_eks_and_rbac_semantics():
    # AdminView reads Secrets (AWS: "Note this includes Kubernetes Secrets"), View does not; a RoleBinding to a
    # ClusterRole grants its rules in the binding's namespace only; no entry, no access.
    arn = "arn:aws:iam::111111111111:role/r"
    secrets = Ask("list", "secrets", "", "kube-system")
    assert ClusterAccess({arn: []}, {arn: [("AmazonEKSAdminViewPolicy", None)]}).allows(arn, secrets)
    assert not ClusterAccess({arn: []}, {arn: [("AmazonEKSViewPolicy", None)]}).allows(arn, secrets)
    assert ClusterAccess({arn: []}, {arn: [("AmazonEKSViewPolicy", None)]}).allows(arn, Ask("list", "pods", "", "x"))
    bound = ClusterAccess(
        {arn: ["g"]}, {}, roles={("", "r"): [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]},
        bindings=[("kube-system", "ClusterRole", "r", [{"kind": "Group", "name": "g"}])],
    )  # fmt: skip
    assert bound.allows(arn, secrets) and not bound.allows(arn, Ask("list", "secrets", "", "vision"))
    assert not bound.allows(arn, Ask("list", "secrets")) and not bound.allows("arn:aws:iam::1:role/other", secrets)
    with pytest.raises(ValueError, match="AmazonEKSMadeUpPolicy"):
        cluster_access({"resources": [{"type": ASSOCIATION, "name": "x", "inputs": {
            "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSMadeUpPolicy", "principalArn": arn,
            "accessScope": {"type": "cluster"}}}]})  # fmt: skip


@pytest.mark.parametrize("stack", STACKS)
def test_the_drift_rbac_objects_validate_against_the_kubernetes_schema(stack):
    objects = [r for r in kubernetes_objects(plan_for(stack)) if r.name.startswith("training-drift-")]
    assert {r.inputs["kind"] for r in objects} == {"ClusterRole", "ClusterRoleBinding", "RoleBinding"}
    version = next(iter(plan_for(stack).of_type("aws:eks/cluster:Cluster"))).inputs["version"]
    assert [p for r in objects for p in problems(as_manifest(r), version)] == []
