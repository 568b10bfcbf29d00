"""Checks of planned Kubernetes objects: published schemas (kubernetes-validate, strict) for built-in kinds,
apiVersion/kind and required fields for the CRDs this platform uses (Karpenter, Kueue)."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
from mlops_platform.infra.tooling.offline import Plan, PlannedResource

CRD_REQUIRED: dict[tuple[str, str], list[str]] = {
    ("karpenter.sh/v1", "NodePool"): [
        "metadata.name", "spec.template.spec.nodeClassRef.group", "spec.template.spec.nodeClassRef.kind",
        "spec.template.spec.nodeClassRef.name", "spec.template.spec.requirements",
    ],
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): [
        "metadata.name", "spec.role", "spec.amiSelectorTerms", "spec.subnetSelectorTerms",
        "spec.securityGroupSelectorTerms",
    ],
    ("kueue.x-k8s.io/v1beta1", "ResourceFlavor"): ["metadata.name"],
    ("kueue.x-k8s.io/v1beta1", "ClusterQueue"): ["metadata.name", "spec.resourceGroups", "spec.namespaceSelector"],
    ("kueue.x-k8s.io/v1beta1", "LocalQueue"): ["metadata.name", "metadata.namespace", "spec.clusterQueue"],
}  # fmt: skip
"""Custom resources the platform registers and the fields their CRDs (Karpenter v1, Kueue v1beta1) require."""

NOT_OBJECTS = ("kubernetes:helm.sh/v3:Release",)


def kubernetes_objects(plan: Plan) -> list[PlannedResource]:
    """Every Kubernetes object in the plan (not providers, not Helm releases)."""
    return [r for r in plan.resources if r.type.startswith("kubernetes:") and r.type not in NOT_OBJECTS]


def as_manifest(resource: PlannedResource) -> dict[str, Any]:
    """The object as the API server would receive it; integral floats (the wire's numbers) back to ints."""
    return _ints(resource.inputs)


def _ints(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_custom(manifest: dict[str, Any]) -> bool:
    """Whether the object's kind comes from a CRD rather than Kubernetes itself."""
    return (manifest["apiVersion"], manifest["kind"]) in CRD_REQUIRED


def schema_problems(manifest: dict[str, Any], version: str) -> list[str]:
    """Strict schema errors of a built-in object for Kubernetes `version`; [] when it validates."""
    where = f"{manifest['kind']} {manifest['metadata'].get('name')}"
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except jsonschema.ValidationError as exc:
        return [f"{where}: {exc.message} at {list(exc.path)}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{where}: {exc.message}"]
    return []


def crd_problems(manifest: dict[str, Any]) -> list[str]:
    """Missing required fields of a custom resource; unknown apiVersion/kind is a problem too."""
    key = (manifest.get("apiVersion"), manifest.get("kind"))
    if key not in CRD_REQUIRED:
        return [f"{key} is not a custom resource this platform knows"]
    missing = [path for path in CRD_REQUIRED[key] if _get(manifest, path) in (None, "", [], {})]
    return [f"{key[1]} {manifest['metadata'].get('name')}: missing {path}" for path in missing]


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def problems(manifest: dict[str, Any], version: str) -> list[str]:
    """Schema problems of any object: strict schema for built-ins, required fields for custom resources."""
    return crd_problems(manifest) if is_custom(manifest) else schema_problems(manifest, version)
