"""What SageMaker accepts, read from botocore's service model (no network, no `sagemaker` SDK), plus the
few facts about instance types the service model does not carry (vCPUs, GPUs, local storage).
"""

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

CLARIFY_ACCOUNTS = {
    "af-south-1": "811711786498",
    "ap-east-1": "098760798382",
    "ap-northeast-1": "377024640650",
    "ap-northeast-2": "263625296855",
    "ap-northeast-3": "912233562940",
    "ap-south-1": "452307495513",
    "ap-southeast-1": "834264404009",
    "ap-southeast-2": "007051062584",
    "ap-southeast-3": "705930551576",
    "ca-central-1": "675030665977",
    "eu-central-1": "017069133835",
    "eu-central-2": "730335477804",
    "eu-north-1": "763603941244",
    "eu-south-1": "638885417683",
    "eu-west-1": "131013547314",
    "eu-west-2": "440796970383",
    "eu-west-3": "341593696636",
    "me-south-1": "835444307964",
    "sa-east-1": "520018980103",
    "us-east-1": "205585389593",
    "us-east-2": "211330385671",
    "us-west-1": "740489534195",
    "us-west-2": "306415355426",
}
"""Accounts publishing the SageMaker Clarify processing image per region (the sagemaker SDK's
image_uri_config/clarify.json, version 1.0), copied so the program never imports the SDK."""

_INSTANCE_STORE_FAMILY_PREFIXES = ("g5", "g6", "g7", "p5", "p6", "trn")
"""Families whose storage is local NVMe although their name has no `d`: every G and P family from G5 and P5
on, and Trainium. Together with the `d` families (c5d, r5d, g4dn, p3dn, p4d, ...) this is the sagemaker
SDK's `instance_supports_kms` rule (`sagemaker.core.common_utils`), widened from its named types
(g5, g6, g7e, p5, p6-b200, trn1, trn2) to their whole generation (g7, p6-b300, p6e-gb200): AWS ships every
GPU and Trainium generation since G5/P4d with instance-store NVMe only."""
_GPU_FAMILY = re.compile(r"^(g\d+[a-z]*|p\d+[a-z]*)(-[a-z0-9]+)?$")
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
    """`TrainingInstanceType` of botocore's SageMaker model: what a training job accepts."""
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
    """Instance types whose storage is local NVMe, encrypted by the instance's hardware module. SageMaker rejects
    a volume KMS key for them (botocore's `ResourceConfig.VolumeKmsKeyId` documentation) and sizes the storage
    itself (`VolumeSizeInGB`); an endpoint configuration's key does not apply to their storage."""
    family = _family_and_size(instance_type)[0]
    return bool(family) and ("d" in family or family.startswith(_INSTANCE_STORE_FAMILY_PREFIXES))


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
    if family.startswith(("p4", "p5", "p6")):
        return 8
    return _GPUS_BY_SIZE.get(size, 1)


def model_monitor_image(region: str) -> str:
    """The Model Monitor analyzer image for a region; ValueError for a region without one."""
    try:
        account = MODEL_MONITOR_ACCOUNTS[region]
    except KeyError:
        raise ValueError(f"Model Monitor has no analyzer image in region {region!r}") from None
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"


def clarify_image(region: str) -> str:
    """The SageMaker Clarify processing image for a region (bias and explainability checks and monitors)."""
    try:
        account = CLARIFY_ACCOUNTS[region]
    except KeyError:
        raise ValueError(f"SageMaker Clarify has no processing image in region {region!r}") from None
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-clarify-processing:1.0"
