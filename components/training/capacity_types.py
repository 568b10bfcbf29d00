"""Karpenter capacity types, in a module of their own so stack configuration can name them without loading the
GPU components (and the pulumi-aws / pulumi-kubernetes services their annotations name)."""

from enum import StrEnum


class CapacityType(StrEnum):
    """Karpenter capacity types (`karpenter.sh/capacity-type`)."""

    SPOT = "spot"
    """Spare capacity at a discount; may be reclaimed with two minutes' notice."""
    ON_DEMAND = "on-demand"
    """Regular capacity, not interrupted."""
