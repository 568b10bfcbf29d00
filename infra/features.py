"""Wiring of the `features` section: the Feature Store component, who may read and write which group, and what
the CI deployer needs to deploy them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
from mlops_platform.components.access import Persona

if TYPE_CHECKING:
    from mlops_platform.components.features import FeatureGroupSpec, FeatureStore


from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.config.governance import FeatureGroupSettings


def _fs():
    """The feature-store component module, imported on first use: its classes' annotations load pulumi-aws's
    SageMaker and Glue modules, which a stack without feature groups should not load."""
    from mlops_platform.components import features

    return features


Statement = dict[str, Any]


def group_name(settings: PlatformSettings, group: FeatureGroupSettings) -> str:
    """Physical name of a configured group: `<project>-<env>-<name>`."""
    return f"{settings.name_prefix}-{group.name}"


def feature_specs(settings: PlatformSettings) -> list[FeatureGroupSpec]:
    """The configured groups as component specs."""
    return [
        _fs().FeatureGroupSpec(
            name=group_name(settings, g),
            record_identifier=g.record_identifier,
            event_time=g.event_time,
            features=[_fs().Feature(f.name, _fs().FeatureType(f.type.value)) for f in g.features],
            stage=_fs().FeatureStage(g.stage.value),
            table_format=_fs().TableFormat(g.table_format.value),
            online_store=(
                _fs().OnlineStore(g.online_store.ttl_value, _fs().TtlUnit(g.online_store.ttl_unit.value))
                if g.online_store
                else None
            ),
            description=g.description,
        )
        for g in settings.features
    ]


def feature_key_users(settings: PlatformSettings) -> list[str]:
    """The offline-store role, which the env key's policy must let use the key (when groups are configured)."""
    if not settings.features:
        return []
    return [f"arn:aws:iam::{settings.account}:role/{_fs().feature_store_role_name(settings.name_prefix)}"]


def _arns(settings: PlatformSettings, groups) -> list[str]:
    return sorted(_fs().feature_group_arn(settings.region, settings.account, group_name(settings, g)) for g in groups)


def feature_persona_statements(
    settings: PlatformSettings, kms_key_arn: pulumi.Input[str]
) -> dict[Persona, list[Statement]]:
    """The grants table of the feature store:

    | persona | sandbox groups | production groups |
    |---|---|---|
    | data scientist | read, put and delete records | read |
    | ML engineer | read | read, put and delete records, update the group |
    | training | read | read |
    | inference | - | read online records |

    Everyone who reads also reads the offline-store tables' schemas in Glue; the offline-store files themselves
    are the features bucket's grants (`components.access.BUCKET_GRANTS`). Online-store records are encrypted with
    the env key: SageMaker requires `kms:Decrypt` of every caller of GetRecord, PutRecord and DeleteRecord.
    """
    if not settings.features:
        return {}
    sandbox = [g for g in settings.features if g.stage.value == "sandbox"]
    production = [g for g in settings.features if g.stage.value == "production"]
    every = _arns(settings, settings.features)
    database = _fs().glue_database_name(settings.name_prefix)
    catalog: Statement = {
        "Sid": "FeatureTablesRead",
        "Effect": "Allow",
        "Action": _fs().GLUE_READ_ACTIONS,
        "Resource": _fs().glue_resources(settings.region, settings.account, database),
    }
    listing: Statement = {"Sid": "FeatureGroupsList", "Effect": "Allow", "Action": "sagemaker:ListFeatureGroups",
                          "Resource": "*"}  # fmt: skip

    def allow(sid: str, actions: list[str], groups) -> list[Statement]:
        arns = _arns(settings, groups)
        return [{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": arns}] if arns else []

    def online_key(groups) -> list[Statement]:
        if not any(g.online_store for g in groups):
            return []
        return [{"Sid": "OnlineStoreKeyDecrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": kms_key_arn}]

    online_production = [g for g in production if g.online_store]
    return {
        Persona.DATA_SCIENTIST: [
            listing,
            catalog,
            {"Sid": "FeatureGroupsRead", "Effect": "Allow", "Action": _fs().FEATURE_READ_ACTIONS, "Resource": every},
            *allow("SandboxFeatureRecordsWrite", _fs().FEATURE_WRITE_ACTIONS, sandbox),
            *online_key(settings.features),
        ],
        Persona.ML_ENGINEER: [
            listing,
            catalog,
            {"Sid": "FeatureGroupsRead", "Effect": "Allow", "Action": _fs().FEATURE_READ_ACTIONS, "Resource": every},
            *allow(
                "ProductionFeatureGroupsManage", _fs().FEATURE_WRITE_ACTIONS + _fs().FEATURE_MANAGE_ACTIONS, production
            ),
            *online_key(settings.features),
        ],
        Persona.TRAINING: [
            listing,
            catalog,
            {"Sid": "FeatureGroupsRead", "Effect": "Allow", "Action": _fs().FEATURE_READ_ACTIONS, "Resource": every},
            *online_key(settings.features),
        ],
        Persona.INFERENCE: [
            *allow("OnlineFeaturesRead", ["sagemaker:GetRecord", "sagemaker:BatchGetRecord"], online_production),
            *online_key(online_production),
        ],
    }


def feature_deployer_statements(settings: PlatformSettings) -> list[Statement]:
    """What the CI deployer needs for the feature store: the env's groups and Glue database, and, for online
    stores, the key permissions SageMaker documents for the caller of CreateFeatureGroup (grants included)."""
    if not settings.features:
        return []
    region, account, prefix = settings.region, settings.account, settings.name_prefix
    statements: list[Statement] = [
        {"Sid": "ManageEnvFeatureGroups", "Effect": "Allow",
         "Action": ["sagemaker:CreateFeatureGroup", "sagemaker:DeleteFeatureGroup", "sagemaker:UpdateFeatureGroup",
                    "sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:Describe*", "sagemaker:List*"],
         "Resource": f"arn:aws:sagemaker:{region}:{account}:feature-group/{prefix}-*"},
        {"Sid": "ManageEnvFeatureDatabase", "Effect": "Allow",
         "Action": ["glue:CreateDatabase", "glue:DeleteDatabase", "glue:UpdateDatabase", "glue:GetDatabase",
                    "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
                    "glue:GetTags", "glue:TagResource", "glue:UntagResource"],
         "Resource": _fs().glue_resources(region, account, _fs().glue_database_name(prefix))},
    ]  # fmt: skip
    if any(g.online_store for g in settings.features):
        statements.append(
            {"Sid": "OnlineStoreKeyForCreation", "Effect": "Allow",
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant", "kms:RetireGrant",
                        "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:ListGrants",
                        "kms:RevokeGrant"],
             "Resource": f"arn:aws:kms:{region}:{account}:key/*",
             "Condition": {"StringEquals": {"aws:ResourceTag/env": settings.environment.value,
                                            "kms:ViaService": f"sagemaker.{region}.amazonaws.com"}}}
        )  # fmt: skip
    return statements


def build_features(
    settings: PlatformSettings,
    *,
    kms_key_arn: pulumi.Input[str],
    features_bucket_name: pulumi.Input[str],
    features_bucket_arn: pulumi.Input[str],
    boundary_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> FeatureStore | None:
    """The feature store, when groups are configured (`opts`: the stack's stateful options)."""
    if not settings.features:
        return None
    return _fs().FeatureStore(
        "features",
        {
            "name_prefix": settings.name_prefix,
            "account_id": settings.account,
            "region": settings.region,
            "kms_key_arn": kms_key_arn,
            "features_bucket_name": features_bucket_name,
            "features_bucket_arn": features_bucket_arn,
            "groups": feature_specs(settings),
            "permissions_boundary_arn": boundary_arn,
        },
        opts,
    )


def feature_outputs(store: FeatureStore | None) -> Mapping[str, Any]:
    """Stack outputs: group ARNs and offline-store URIs by physical name, and the Glue database."""
    if store is None:
        return {"feature_groups": {}}
    return {
        "feature_groups": {name: group.arn for name, group in store.groups.items()},
        "feature_database": store.database.name,
    }


class FeaturesCapability(Capability):
    """SageMaker Feature Store groups (opt-in: the `features` list), offline store in the features bucket."""

    name = "features"

    def deployer_statements(self, settings: PlatformSettings) -> list[Statement]:
        return feature_deployer_statements(settings)

    def build(self, platform: Platform) -> FeatureStore | None:
        from mlops_platform.infra.storage import Storage

        features = platform.result("storage", Storage).lake.buckets["features"]
        boundary = platform.results.get("governance")
        return build_features(
            platform.settings,
            kms_key_arn=platform.result("storage", Storage).key.arn,
            features_bucket_name=features.name,
            features_bucket_arn=features.arn,
            boundary_arn=boundary.arn if boundary else None,
            opts=platform.stateful,
        )

    def outputs(self, platform: Platform) -> Mapping[str, Any]:
        return feature_outputs(platform.results.get(self.name))


CAPABILITY = FeaturesCapability()
