"""Every rule of the pack; importing this package registers them in `policies.core.RULES`.

One module per area; each rule is a plain function (importable, unit-testable) carrying its metadata.
The import order below is the order rules are listed in (baseline order of shared/DESIGN.md).
"""

from . import s3, kms, iam, network, compute, registry, sagemaker, observability, governance  # noqa: I001
from . import data_protection

__all__ = [
    "compute", "data_protection", "governance", "iam", "kms", "network", "observability", "registry", "s3",
    "sagemaker",
]  # fmt: skip
