"""The Feature Store's closed choices, in a module of their own: the stack config validates with them without
loading the component module (whose annotations load pulumi-aws's SageMaker and Glue modules)."""

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator

RESERVED_FEATURE_NAMES = ("is_deleted", "write_time", "api_invocation_time")
"""Names Feature Store keeps for the columns it adds to the offline store (botocore's CreateFeatureGroup)."""

FEATURE_NAME = re.compile(r"^[a-zA-Z0-9]([-_]*[a-zA-Z0-9]){0,63}$")
"""botocore's `FeatureName` pattern."""


def _check_feature_name(value: str) -> str:
    if not FEATURE_NAME.match(value):
        raise ValueError(
            "not a feature name; expected letters and digits, optionally joined by - or _, at most 64 characters "
            "(botocore's FeatureName pattern)"
        )
    if value in RESERVED_FEATURE_NAMES:
        raise ValueError(f"is reserved by Feature Store; avoid {', '.join(RESERVED_FEATURE_NAMES)}")
    return value


FeatureName = Annotated[str, AfterValidator(_check_feature_name)]
"""A Feature Store feature name (botocore's `FeatureName`), not one of the reserved offline-store columns."""


class FeatureType(StrEnum):
    """Feature value types (`FeatureType` in botocore's SageMaker model)."""

    INTEGRAL = "Integral"
    """Whole numbers (64-bit)."""
    FRACTIONAL = "Fractional"
    """Floating-point numbers."""
    STRING = "String"
    """Text, e.g. identifiers or ISO-8601 timestamps."""


class FeatureStage(StrEnum):
    """Who owns a group: sandbox groups are data scientists' experiments, production groups feed models."""

    SANDBOX = "sandbox"
    """A data scientist's experiment: offline store under the `sandbox/` prefix they may write."""
    PRODUCTION = "production"
    """Feeds models: offline store under `feature-store/`, written by pipelines and ML engineers."""


class TableFormat(StrEnum):
    """Offline-store table format in the Glue catalog."""

    ICEBERG = "Iceberg"
    """Apache Iceberg table (compaction, time travel; AWS's recommendation)."""
    GLUE = "Glue"
    """Plain Glue (Hive-style Parquet) table."""


class TtlUnit(StrEnum):
    """Units of an online-store time to live (`TtlDurationUnit`)."""

    SECONDS = "Seconds"
    """Seconds."""
    MINUTES = "Minutes"
    """Minutes."""
    HOURS = "Hours"
    """Hours."""
    DAYS = "Days"
    """Days."""
    WEEKS = "Weeks"
    """Weeks."""
