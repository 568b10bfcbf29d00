"""SageMaker Feature Store: feature groups whose offline store lives in the data lake's features bucket under a
per-group prefix, registered in the environment's Glue database, encrypted with the env key throughout.

`FeatureStore` creates the Glue database, the role SageMaker assumes to write the offline store, and one
`aws.sagemaker.FeatureGroup` per `FeatureGroupSpec`. Who may read or write which group is the caller's
decision; the `FEATURE_*_ACTIONS` lists name the IAM actions of each kind of access.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._options import stateful
from ._validation import check_args
from .feature_types import FEATURE_NAME, RESERVED_FEATURE_NAMES

# Re-exported: callers import the Feature Store's enums from here.
from .feature_types import FeatureStage as FeatureStage
from .feature_types import FeatureType as FeatureType
from .feature_types import TableFormat as TableFormat
from .feature_types import TtlUnit as TtlUnit

GROUP_NAME = re.compile(r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$")
"""botocore's `FeatureGroupName` pattern."""

IDENTIFIER_TYPES = (FeatureType.INTEGRAL, FeatureType.STRING)
"""Types a record identifier may have here (a Fractional identifier does not identify reliably)."""

EVENT_TIME_TYPES = (FeatureType.STRING, FeatureType.FRACTIONAL)
"""Types SageMaker accepts for the event time: ISO-8601 String or Unix-seconds Fractional."""


@dataclass(frozen=True)
class OnlineStore:
    """The online store of a group: latest record per identifier, encrypted with the env key."""

    ttl_value: int | None = None
    """Records expire this many `ttl_unit`s after their event time; None keeps them."""
    ttl_unit: TtlUnit = TtlUnit.DAYS
    """Unit of `ttl_value` (default days)."""


@dataclass(frozen=True)
class Feature:
    """One feature (column) of a group."""

    name: str
    """Feature name (botocore's `FeatureName`: letters, digits, `-`, `_`; not a column the offline store adds)."""
    type: FeatureType
    """Value type."""


@dataclass(frozen=True)
class FeatureGroupSpec:
    """One feature group."""

    name: str
    """Physical group name (at most 64 characters)."""
    record_identifier: str
    """Feature identifying a record (Integral or String)."""
    event_time: str
    """Feature holding the event time (String or Fractional)."""
    features: Sequence[Feature]
    """Every feature, the identifier and event time included, in column order."""
    stage: FeatureStage = FeatureStage.SANDBOX
    """Sandbox (default) or production: decides the offline-store prefix and who may write."""
    table_format: TableFormat = TableFormat.ICEBERG
    """Offline-store table format (default Iceberg)."""
    online_store: OnlineStore | None = None
    """None: offline store only."""
    description: str = ""
    """Free-text description shown in SageMaker."""


def offline_store_prefix(spec: FeatureGroupSpec) -> str:
    """Key prefix of a group's offline store in the features bucket; sandbox groups live under `sandbox/`, the
    prefix data scientists may write, production groups under `feature-store/`."""
    root = "sandbox/feature-store" if spec.stage is FeatureStage.SANDBOX else "feature-store"
    return f"{root}/{spec.name}/"


def glue_database_name(name_prefix: str) -> str:
    """The Glue database of the environment's feature groups: `<prefix>_features`, underscores for hyphens
    (Athena-friendly)."""
    return f"{name_prefix.replace('-', '_')}_features"


def glue_table_name(spec: FeatureGroupSpec) -> str:
    """A group's offline-store table in the database."""
    return spec.name.replace("-", "_")


def feature_store_role_name(name_prefix: str) -> str:
    """Physical name of the role SageMaker assumes to write the offline stores."""
    return f"{name_prefix}-feature-store"


def feature_group_arn(region: str, account_id: str, name: str) -> str:
    """A group's ARN, known before it exists (SageMaker lowercases names in ARNs)."""
    return f"arn:aws:sagemaker:{region}:{account_id}:feature-group/{name.lower()}"


def check_feature_group(spec: FeatureGroupSpec) -> None:
    """ValueError naming the field, the value and what is accepted, for a group SageMaker would reject (or this
    platform does not accept)."""
    where = f"feature group {spec.name!r}"
    if not GROUP_NAME.match(spec.name):
        raise ValueError(f"{where}: name must match {GROUP_NAME.pattern} (at most 64 characters)")
    types: dict[str, FeatureType] = {}
    for feature in spec.features:
        name, type_ = feature.name, feature.type
        if not FEATURE_NAME.match(name) or name in RESERVED_FEATURE_NAMES:
            raise ValueError(
                f"{where}: feature name {name!r} must match {FEATURE_NAME.pattern} and not be one of "
                f"{', '.join(RESERVED_FEATURE_NAMES)}"
            )
        if name in types:
            raise ValueError(f"{where}: feature {name!r} is defined twice")
        types[name] = FeatureType(type_)
    if not 1 <= len(types) <= 2500:
        raise ValueError(f"{where}: has {len(types)} features; SageMaker accepts 1 to 2500")
    for field, name, accepted in (
        ("record_identifier", spec.record_identifier, IDENTIFIER_TYPES),
        ("event_time", spec.event_time, EVENT_TIME_TYPES),
    ):
        if name not in types:
            raise ValueError(f"{where}: {field}={name!r} is not one of its features ({', '.join(types)})")
        if types[name] not in accepted:
            raise ValueError(
                f"{where}: {field}={name!r} is {types[name].value}; expected {' or '.join(t.value for t in accepted)}"
            )
    online = spec.online_store
    if online and online.ttl_value is not None and online.ttl_value < 1:
        raise ValueError(f"{where}: online_store.ttl_value={online.ttl_value} must be at least 1")


class FeatureStoreArgs(TypedDict):
    """Arguments of `FeatureStore`."""

    name_prefix: str
    """Prefix of physical names, e.g. `mlops-platform-dev`: the role is `<prefix>-feature-store`, the Glue
    database `<prefix>_features` (underscores)."""
    account_id: str
    """The environment's account."""
    region: str
    """The environment's region (scopes the role's key use to S3 there)."""
    kms_key_arn: pulumi.Input[str]
    """The env key: encrypts every offline store (S3) and online store."""
    features_bucket_name: pulumi.Input[str]
    """The data lake's features bucket, home of the offline stores."""
    features_bucket_arn: pulumi.Input[str]
    """Its ARN."""
    groups: Sequence[FeatureGroupSpec]
    """The feature groups."""
    permissions_boundary_arn: pulumi.Input[str]
    """Boundary of the offline-store role (the persona boundary: it admits the data lake and the key)."""


class FeatureStore(pulumi.ComponentResource):
    """The environment's feature groups, their Glue database and the role that writes their offline stores.

    Every group's offline store is `s3://<features>/<offline_store_prefix>` encrypted with the env key, and its
    online store (when configured) is encrypted with the same key. Pass `protect`/`retain_on_delete` in `opts`
    to keep groups through deletes (their records live only in them).
    """

    database: aws.glue.CatalogDatabase
    """The Glue database the offline-store tables are registered in."""
    role: aws.iam.Role
    """The role SageMaker assumes to write the offline stores."""
    groups: dict[str, aws.sagemaker.FeatureGroup]
    """Feature groups by physical name."""
    offline_store_uris: dict[str, pulumi.Output[str]]
    """Where each group's offline store writes its Parquet files (`ResolvedOutputS3Uri`, known once the group
    exists: `s3://<features>/<prefix>/<account>/sagemaker/<region>/offline-store/<group>-<created>/data`), by
    physical name; e.g. a `TrainingPipeline`'s `feature_group_input`."""

    def __init__(self, name: str, args: FeatureStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(FeatureStore, name, args)  # each group through `check_feature_group` too
        names = [spec.name for spec in args["groups"]]
        if repeated := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"FeatureStore {name!r}: feature group names repeat: {', '.join(repeated)}")
        super().__init__("mlops:features:FeatureStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args["name_prefix"]

        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=glue_database_name(prefix),
            description=f"Offline-store tables of the {prefix} feature groups",
            opts=stateful(child, opts),
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=feature_store_role_name(prefix),
            description=f"SageMaker Feature Store of {prefix}: writes the offline stores",
            assume_role_policy=_iam.render(
                [_iam.service_trust("AssumeBySageMaker", "sagemaker.amazonaws.com", args["account_id"])]
            ),
            permissions_boundary=args["permissions_boundary_arn"],
            max_session_duration=3600,
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=self.role.id,
            name="offline-store",
            policy=_iam.render(offline_store_role_statements(args)),
            opts=child,
        )
        self.groups = {}
        for spec in args["groups"]:
            self.groups[spec.name] = aws.sagemaker.FeatureGroup(
                f"{name}-{spec.name}",
                feature_group_name=spec.name,
                description=spec.description or None,
                record_identifier_feature_name=spec.record_identifier,
                event_time_feature_name=spec.event_time,
                feature_definitions=[
                    {"feature_name": f.name, "feature_type": FeatureType(f.type).value} for f in spec.features
                ],
                role_arn=self.role.arn,
                offline_store_config={
                    "s3_storage_config": {
                        "s3_uri": pulumi.Output.concat(
                            "s3://", args["features_bucket_name"], "/", offline_store_prefix(spec).rstrip("/")
                        ),
                        "kms_key_id": args["kms_key_arn"],
                    },
                    "data_catalog_config": {
                        "catalog": "AwsDataCatalog",
                        "database": self.database.name,
                        "table_name": glue_table_name(spec),
                    },
                    "disable_glue_table_creation": False,
                    "table_format": spec.table_format.value,
                },
                online_store_config=_online_store_config(spec, args["kms_key_arn"]),
                tags={"feature-stage": spec.stage.value},
                opts=pulumi.ResourceOptions.merge(stateful(child, opts), pulumi.ResourceOptions(depends_on=[policy])),
            )
        self.offline_store_uris = {
            name: group.offline_store_config.apply(_resolved_offline_store_uri) for name, group in self.groups.items()
        }
        self.register_outputs({"database": self.database.name, "groups": {n: g.arn for n, g in self.groups.items()}})


def _resolved_offline_store_uri(config) -> str:
    uri = config.s3_storage_config.resolved_output_s3_uri if config else None
    if not uri:  # AWS always sets it on creation; only a provider or mock that does not is caught here
        raise ValueError("the feature group has no offline_store_config.s3_storage_config.resolved_output_s3_uri")
    return uri


def _online_store_config(spec: FeatureGroupSpec, kms_key_arn: pulumi.Input[str]) -> dict | None:
    online = spec.online_store
    if online is None:
        return None
    config: dict = {"enable_online_store": True, "security_config": {"kms_key_id": kms_key_arn}}
    if online.ttl_value is not None:
        config["ttl_duration"] = {"unit": online.ttl_unit.value, "value": online.ttl_value}
    return config


OFFLINE_STORE_WRITE_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:PutObjectAcl"]
"""What SageMaker does with the role in the offline store: it writes Parquet files with the
`bucket-owner-full-control` ACL (accepted under BucketOwnerEnforced), and Iceberg reads its metadata back."""

GLUE_TABLE_ACTIONS = ["glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"]
"""Registering and updating each group's table in the environment's database."""


def offline_store_role_statements(args: FeatureStoreArgs) -> list[_iam.Statement]:
    """The offline-store role: its groups' prefixes of the features bucket, the key through S3, and the tables of
    the environment's database, nothing else."""
    bucket, region, account = args["features_bucket_arn"], args["region"], args["account_id"]
    prefixes = sorted({offline_store_prefix(spec) for spec in args["groups"]})
    database = glue_database_name(args["name_prefix"])
    return [
        {
            "Sid": "OfflineStoreObjects",
            "Effect": "Allow",
            "Action": OFFLINE_STORE_WRITE_ACTIONS,
            "Resource": [pulumi.Output.concat(bucket, "/", p, "*") for p in prefixes],
        },
        {"Sid": "OfflineStoreBucket", "Effect": "Allow", "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
         "Resource": bucket},
        {
            "Sid": "UseEnvKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": args["kms_key_arn"],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
        },
        {
            "Sid": "OfflineStoreTables",
            "Effect": "Allow",
            "Action": GLUE_TABLE_ACTIONS,
            "Resource": glue_resources(region, account, database),
        },
    ]  # fmt: skip


def glue_resources(region: str, account_id: str, database: str) -> list[str]:
    """The catalog, the database and its tables: the resources a Glue table call is authorized on."""
    glue = f"arn:aws:glue:{region}:{account_id}"
    return [f"{glue}:catalog", f"{glue}:database/{database}", f"{glue}:table/{database}/*"]


FEATURE_READ_ACTIONS = [
    "sagemaker:DescribeFeatureGroup", "sagemaker:DescribeFeatureMetadata", "sagemaker:GetRecord",
    "sagemaker:BatchGetRecord",
]  # fmt: skip
"""Reading a group's definition and its online records."""
FEATURE_WRITE_ACTIONS = ["sagemaker:PutRecord", "sagemaker:DeleteRecord"]
"""Ingesting and deleting records (the offline store receives them through the group's role)."""
FEATURE_MANAGE_ACTIONS = ["sagemaker:UpdateFeatureGroup", "sagemaker:UpdateFeatureMetadata"]
"""Adding features, changing the online store's TTL, describing features."""
GLUE_READ_ACTIONS = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
"""Reading the offline-store tables' schemas (Athena, Spark, pandas with awswrangler)."""
