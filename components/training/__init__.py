"""GPU training platform on EKS: the cluster (`TrainingCluster`) and its Karpenter GPU capacity (`GpuCapacity`).
Tenancy (namespaces, quotas, Kueue queues) is in `components.tenancy`.

The names are loaded on first use (PEP 562): the components' annotations name pulumi-aws's EKS and SQS and
pulumi-kubernetes's Helm modules, which a program that builds no GPU training should not import.
"""

import importlib
from typing import TYPE_CHECKING, Any

import pulumi_kubernetes  # noqa: F401  (the package needs the `kubernetes` extra: say so at import)

if TYPE_CHECKING:
    from .capacity import GpuCapacity, GpuCapacityArgs, GpuPool
    from .capacity_types import CapacityType
    from .cluster import AccessPolicy, ClusterAccess, PolicyGrant, SystemNodes, TrainingCluster, TrainingClusterArgs

_MODULES = {
    "AccessPolicy": "cluster",
    "CapacityType": "capacity_types",
    "ClusterAccess": "cluster",
    "GpuCapacity": "capacity",
    "GpuCapacityArgs": "capacity",
    "GpuPool": "capacity",
    "PolicyGrant": "cluster",
    "SystemNodes": "cluster",
    "TrainingCluster": "cluster",
    "TrainingClusterArgs": "cluster",
}

__all__ = [
    "AccessPolicy",
    "CapacityType",
    "ClusterAccess",
    "GpuCapacity",
    "GpuCapacityArgs",
    "GpuPool",
    "PolicyGrant",
    "SystemNodes",
    "TrainingCluster",
    "TrainingClusterArgs",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_MODULES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})
