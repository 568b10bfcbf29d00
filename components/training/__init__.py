"""GPU training platform on EKS: the cluster (`TrainingCluster`) and its Karpenter GPU capacity (`GpuCapacity`).
Tenancy (namespaces, quotas, Kueue queues) is in `components.tenancy`."""

from .capacity import CapacityType, GpuCapacity, GpuCapacityArgs, GpuPool
from .cluster import (
    AccessPolicy,
    ClusterAccess,
    PolicyGrant,
    SystemNodes,
    TrainingCluster,
    TrainingClusterArgs,
)

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
