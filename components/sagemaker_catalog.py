"""What SageMaker accepts, read from botocore's service model (no network, no `sagemaker` SDK), plus the
few facts about instance types the service model does not carry (vCPUs, GPUs, local storage).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from importlib import resources

MODEL_PACKAGE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[A-Za-z0-9](-*[A-Za-z0-9]){0,62})/(?P<version>[1-9]\d*)$"
)
"""A versioned model package: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>."""

MODEL_MONITOR_ACCOUNTS = {
    "af-south-1": "875698925577",
    "ap-east-1": "001633400207",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-northeast-3": "990339680094",
    "ap-south-1": "126357580389",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "ap-southeast-3": "669540362728",
    "ca-central-1": "536280801234",
    "eu-central-1": "048819808253",
    "eu-central-2": "590183933784",
    "eu-north-1": "895015795356",
    "eu-south-1": "933208885752",
    "eu-south-2": "437450045455",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "il-central-1": "843974653677",
    "me-central-1": "588750061953",
    "me-south-1": "607024016150",
    "sa-east-1": "539772159869",
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
}
"""Accounts publishing the Model Monitor analyzer image per region (the sagemaker SDK's
image_uri_config/model-monitor.json), copied so the program never imports the SDK."""

_LOCAL_NVME_FAMILIES = frozenset(
    {
        "c5d",
        "c6id",
        "m5d",
        "m6id",
        "r5d",
        "r6id",
        "g4dn",
        "g5",
        "g6",
        "g6e",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
        "trn1",
        "trn1n",
    }
)
_GPU_FAMILY = re.compile(r"^(g\d+[a-z]*|p\d+[a-z]*)$")
_GPUS_BY_SIZE = {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8}


@functools.cache
def _sagemaker_shapes() -> dict:
    # The newest API version's file, read directly: importing botocore's Loader costs ~0.5 s, this ~0.1 s.
    folder = resources.files("botocore").joinpath("data/sagemaker")
    newest = max((d for d in folder.iterdir() if d.is_dir()), key=lambda d: d.name)
    for candidate in ("service-2.json.gz", "service-2.json"):
        path = newest.joinpath(candidate)
        if path.is_file():
            data = path.read_bytes()
            return json.loads(gzip.decompress(data) if candidate.endswith(".gz") else data)["shapes"]
    raise FileNotFoundError(f"botocore has no SageMaker service model under {newest}")


@functools.cache
def endpoint_instance_types() -> frozenset[str]:
    """`ProductionVariantInstanceType` of botocore's SageMaker model: what an endpoint variant accepts."""
    return frozenset(_sagemaker_shapes()["ProductionVariantInstanceType"]["enum"])


@functools.cache
def training_instance_types() -> frozenset[str]:
    """`TrainingInstanceType`: what a training job accepts."""
    return frozenset(_sagemaker_shapes()["TrainingInstanceType"]["enum"])


@functools.cache
def processing_instance_types() -> frozenset[str]:
    """`ProcessingInstanceType`: what a Model Monitor job accepts."""
    return frozenset(_sagemaker_shapes()["ProcessingInstanceType"]["enum"])


def _family_and_size(instance_type: str) -> tuple[str, str]:
    _, family, size = [*instance_type.split("."), "", ""][:3]
    return family, size


def is_gpu(instance_type: str) -> bool:
    """True for the G and P families (NVIDIA GPUs); Inferentia/Trainium are accelerators, not GPUs."""
    return bool(_GPU_FAMILY.match(_family_and_size(instance_type)[0]))


def has_local_nvme(instance_type: str) -> bool:
    """Instance types whose storage is local NVMe, encrypted by the instance's hardware module: the endpoint
    configuration's KMS key does not apply to that storage (botocore's CreateEndpointConfig documentation)."""
    return _family_and_size(instance_type)[0] in _LOCAL_NVME_FAMILIES


def vcpus(instance_type: str) -> int:
    """vCPUs of an instance size: medium and large have 2, xlarge 4, Nxlarge 4*N.

    SageMaker's CPUUtilization is the sum over vCPUs (up to 100 % each), so alarm thresholds scale with it.
    """
    size = _family_and_size(instance_type)[1]
    if size in ("medium", "large"):
        return 2
    if size == "xlarge":
        return 4
    if match := re.fullmatch(r"(\d+)xlarge", size):
        return 4 * int(match.group(1))
    return 2


def gpus(instance_type: str) -> int:
    """GPUs of a GPU instance (1 up to 8xlarge, 4 at 12/24xlarge, 8 at 48xlarge; P3/P4/P5 use their own sizes).

    Like CPUUtilization, GPUUtilization is summed over the GPUs of an instance.
    """
    if not is_gpu(instance_type):
        return 0
    family, size = _family_and_size(instance_type)
    if family.startswith("p3"):
        return {"2xlarge": 1, "8xlarge": 4}.get(size, 8)
    if family.startswith(("p4", "p5")):
        return 8
    return _GPUS_BY_SIZE.get(size, 1)


def model_monitor_image(region: str) -> str:
    """The Model Monitor analyzer image for a region; ValueError for a region without one."""
    try:
        account = MODEL_MONITOR_ACCOUNTS[region]
    except KeyError:
        raise ValueError(f"Model Monitor has no analyzer image in region {region!r}") from None
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"
