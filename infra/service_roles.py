"""The permission boundary of the roles AWS services assume (flow logs, EKS, Karpenter, ...)."""

from __future__ import annotations

from mlops_platform.components.boundaries import ServiceRoleBoundary
from mlops_platform.infra.capability import Capability, Platform


class ServiceRolesCapability(Capability):
    """The service-role boundary: built before the network and the cluster, whose service roles carry it."""

    name = "service-roles"

    def build(self, platform: Platform) -> ServiceRoleBoundary:
        settings = platform.settings
        return ServiceRoleBoundary(
            "service-roles",
            {"account_id": settings.account, "region": settings.region, "name_prefix": settings.name_prefix},
            platform.base,
        )


CAPABILITY = ServiceRolesCapability()
