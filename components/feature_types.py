"""The Feature Store's closed choices, in a module of their own: the stack config validates with them without
loading the component module (whose annotations load pulumi-aws's SageMaker and Glue modules)."""

from enum import StrEnum


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
