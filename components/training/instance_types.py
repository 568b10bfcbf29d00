"""Which EC2 instance types have NVIDIA GPUs, checked against botocore's EC2 service model.

botocore's `ec2/<version>/service-2.json` enumerates every instance type (`InstanceType` shape) but says
nothing about accelerators, so GPU-ness comes from a documented family table: the NVIDIA GPU families the
EKS-optimized AL2023 NVIDIA AMI supports (Amazon EC2 "Accelerated computing" instance types,
https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html). A family is accepted only if it is in the
table *and* botocore knows at least one type of it, so a typo or a family botocore has never heard of fails.
"""

import functools
import gzip
import json
import re
from collections.abc import Iterable
from importlib import resources

NVIDIA_GPU_FAMILIES: dict[str, str] = {
    "g4dn": "amd64",
    "g5": "amd64",
    "g5g": "arm64",
    "g6": "amd64",
    "g6e": "amd64",
    "gr6": "amd64",
    "p3": "amd64",
    "p3dn": "amd64",
    "p4d": "amd64",
    "p4de": "amd64",
    "p5": "amd64",
    "p5e": "amd64",
    "p5en": "amd64",
    "p6-b200": "amd64",
}
"""NVIDIA GPU instance families and their CPU architecture (`kubernetes.io/arch`). g4ad (AMD GPUs) and the
retired g2/g3/p2 families are deliberately absent: the NVIDIA device plugin and AMI do not serve them."""

EFA_FAMILIES = frozenset({"p4d", "p4de", "p5", "p5e", "p5en", "p6-b200"})
"""GPU families where every size has an Elastic Fabric Adapter, so an EFA pool can't pick a size without one."""


_ENUM = re.compile(rb'"InstanceType"\s*:\s*\{\s*"type"\s*:\s*"string"\s*,\s*"enum"\s*:\s*(\[[^\]]*\])')


@functools.cache
def ec2_instance_types() -> frozenset[str]:
    """Every instance type in botocore's EC2 service model (the `InstanceType` enum)."""
    # The model is 4 MB of JSON; cutting the one enum out of the newest API version's file takes ~25 ms where
    # botocore's loader parses all of it (~270 ms), which the offline preview would pay on every run.
    data = resources.files("botocore").joinpath("data", "ec2")
    newest = max(d.name for d in data.iterdir() if d.is_dir())
    for name in ("service-2.json.gz", "service-2.json"):
        model = data.joinpath(newest, name)
        if model.is_file():
            raw = model.read_bytes()
            found = _ENUM.search(gzip.decompress(raw) if name.endswith(".gz") else raw)
            if found:
                return frozenset(json.loads(found.group(1)))
    import botocore.loaders

    return frozenset(botocore.loaders.Loader().load_service_model("ec2", "service-2")["shapes"]["InstanceType"]["enum"])


def family_of(instance_type: str) -> str:
    """`p4d.24xlarge` -> `p4d`."""
    return instance_type.split(".", 1)[0]


def known_families() -> frozenset[str]:
    """Families with at least one type in botocore's model."""
    return frozenset(family_of(t) for t in ec2_instance_types())


def gpu_family_problem(family: str) -> str | None:
    """Why `family` can't back a GPU pool, or None when it can."""
    if family not in known_families():
        return f"{family!r} is not an EC2 instance family known to botocore"
    if family not in NVIDIA_GPU_FAMILIES:
        return f"{family!r} has no NVIDIA GPU; GPU families: {', '.join(sorted(NVIDIA_GPU_FAMILIES))}"
    return None


def gpu_type_problem(instance_type: str) -> str | None:
    """Why `instance_type` can't back a GPU pool, or None when it can."""
    if instance_type not in ec2_instance_types():
        return f"{instance_type!r} is not an EC2 instance type in botocore's EC2 model"
    if family_of(instance_type) not in NVIDIA_GPU_FAMILIES:
        return (
            f"{instance_type!r} has no NVIDIA GPU (family {family_of(instance_type)!r}); "
            f"GPU families: {', '.join(sorted(NVIDIA_GPU_FAMILIES))}"
        )
    return None


def architectures(families: Iterable[str]) -> list[str]:
    """The `kubernetes.io/arch` values of these GPU families, sorted."""
    return sorted({NVIDIA_GPU_FAMILIES[f] for f in families})
