"""The root of the stack config: every `mlops-platform:<key>` in stacks/Pulumi.<env>.yaml."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, ModelWrapValidatorHandler, StringConstraints, model_validator

from .access import AccessSettings
from .base import AccountId, AwsRegion, StrictModel
from .ci import CiRunnerSettings
from .governance import AuditSettings, DisasterRecoverySettings, FeatureGroupSettings
from .monitoring import MonitoringSettings
from .network import NatGateways, NetworkSettings
from .pipelines import PipelineList
from .registry import RegistrySettings
from .serving import EndpointSettings, check_endpoints
from .storage import StorageSettings
from .training import TrainingSettings
from .training import environment as _environment

PROJECT = "mlops-platform"
"""The Pulumi project name; also the config namespace and the prefix of physical names."""


class Environment(StrEnum):
    """The environments the program knows; each has its own stack file."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"


class TagSettings(StrictModel):
    """Ownership tags applied to every taggable resource through the provider's default tags."""

    team: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ._:/=+@-]{1,128}$")]
    """Owning team, written to the `team` tag."""
    cost_center: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 ._:/=+@-]{1,128}$")]
    """Cost center billed for the stack, written to the `cost-center` tag."""


class ProtectionSettings(StrictModel):
    """Guards against deleting stateful resources (buckets, keys)."""

    protect_stateful: bool = True
    """Mark stateful resources `protect`ed so Pulumi refuses to delete or replace them."""
    retain_on_delete: bool = True
    """Keep stateful resources in AWS when they leave the program (`retain_on_delete`)."""
    override_reason: Annotated[str, Field(min_length=10)] | None = None
    """Required in prod to turn any protection off: why, for the reviewer of the change."""


class PlatformSettings(StrictModel):
    """The whole validated stack config."""

    environment: Environment
    """dev, staging or prod; must match the stack name."""
    region: AwsRegion
    """AWS region of every resource in the stack."""
    account: AccountId
    """The AWS account the stack deploys to; the provider refuses any other."""
    tags: TagSettings
    """Ownership tags (env and project are added automatically)."""
    protection: ProtectionSettings = ProtectionSettings()
    """protect / retain_on_delete for stateful resources."""
    storage: StorageSettings = StorageSettings()
    """Data-lake retention, tiering and object lock."""
    access: AccessSettings
    """Persona trust and CI deployment."""
    endpoints: list[EndpointSettings] = []
    """SageMaker real-time endpoints; promoting a model is a change of a model_package_arn here."""
    registry: RegistrySettings = RegistrySettings()
    """Container repositories, model package groups and experiment tracking."""
    monitoring: MonitoringSettings = MonitoringSettings()
    """Alert subscriptions and budgets."""
    network: NetworkSettings = NetworkSettings()
    """The VPC: address range, availability zones, NAT gateways, VPC endpoints and flow logs."""
    pipelines: PipelineList = []
    """SageMaker training pipelines (see pipelines/): one entry per pipeline, none by default."""
    training: TrainingSettings | None = None
    """The EKS GPU training cluster and its teams; unset builds no cluster."""
    ci_runner: CiRunnerSettings | None = None
    """CodeBuild-hosted GitHub Actions runners in the private subnets, for deploy and drift jobs; unset builds none
    (CI then can't reach a private cluster API)."""
    features: list[FeatureGroupSettings] = []
    """SageMaker Feature Store feature groups, offline store in the features bucket; none by default."""
    audit: AuditSettings = AuditSettings()
    """CloudTrail: the environment's trail (or the organisation's), audit bucket, log group and CIS alarms."""
    disaster_recovery: DisasterRecoverySettings = DisasterRecoverySettings()
    """Cross-region replication of the artifacts (and optionally raw) bucket; off unless replica_region is set."""

    @model_validator(mode="wrap")
    @classmethod
    def _environment_in_context(
        cls, data: object, handler: ModelWrapValidatorHandler[PlatformSettings]
    ) -> PlatformSettings:
        # Nested sections validate before this model exists; rules that depend on the environment (no spot
        # capacity in prod) read it from this context variable, so their errors keep the nested key path.
        token = _environment.set(data.get("environment") if isinstance(data, dict) else None)
        try:
            return handler(data)
        finally:
            _environment.reset(token)

    @model_validator(mode="after")
    def _zones_in_region(self) -> PlatformSettings:
        zones = self.network.availability_zones
        if isinstance(zones, list) and (foreign := [z for z in zones if not z.startswith(self.region)]):
            raise ValueError(
                f"network.availability_zones {foreign} are not in region {self.region}; "
                f"expected names like {self.region}a"
            )
        return self

    @model_validator(mode="after")
    def _prod_survives_an_az_outage(self) -> PlatformSettings:
        if self.environment is not Environment.PROD or self.protection.override_reason:
            return self
        problems = []
        if self.network.az_count < 3:
            problems.append(f"network.availability_zones spans {self.network.az_count} AZs (prod needs at least 3)")
        if self.network.nat_gateways is not NatGateways.PER_AZ:
            problems.append(
                f"network.nat_gateways is {self.network.nat_gateways.value!r} (prod needs 'per_az', so egress "
                "survives the loss of one AZ)"
            )
        if problems:
            raise ValueError(f"prod {'; '.join(problems)}; fix it or explain why in protection.override_reason")
        return self

    @model_validator(mode="after")
    def _models_shared_elsewhere(self) -> PlatformSettings:
        for index, model in enumerate(self.registry.models):
            if self.account in model.share_with_accounts:
                raise ValueError(
                    f"registry.models[{index}].share_with_accounts includes the stack's own account "
                    f"{self.account}; "
                    "list only the accounts models are promoted to"
                )
        return self

    @model_validator(mode="after")
    def _prod_keeps_protections(self) -> PlatformSettings:
        if self.environment is not Environment.PROD or self.protection.override_reason:
            return self
        weakened = [
            key
            for key, off in (
                ("protection.protect_stateful", not self.protection.protect_stateful),
                ("protection.retain_on_delete", not self.protection.retain_on_delete),
                ("storage.force_destroy", self.storage.force_destroy),
                ("registry.force_delete", self.registry.force_delete),
            )
            if off
        ]
        if weakened:
            raise ValueError(
                f"prod turns off {', '.join(weakened)}; keep the protection or explain why in "
                "protection.override_reason"
            )
        return self

    @model_validator(mode="after")
    def _endpoints_fit_the_stack(self) -> PlatformSettings:
        check_endpoints(
            self.endpoints,
            environment=self.environment.value,
            region=self.region,
            account=self.account,
            model_groups=[model.name for model in self.registry.models],
        )
        return self

    @model_validator(mode="after")
    def _pipelines_register_into_known_models(self) -> PlatformSettings:
        known = [model.name for model in self.registry.models]
        for index, pipeline in enumerate(self.pipelines):
            if pipeline.model not in known:
                raise ValueError(
                    f"pipelines[{index}].model {pipeline.model!r} is not a registry.models name; "
                    f"expected one of: {', '.join(known) or '(none: add the model to registry.models)'}"
                )
        return self

    @model_validator(mode="after")
    def _pipelines_read_known_feature_groups(self) -> PlatformSettings:
        groups = {group.name: group for group in self.features}
        for index, pipeline in enumerate(self.pipelines):
            if pipeline.feature_group is None:
                continue
            group = groups.get(pipeline.feature_group)
            if group is None:
                raise ValueError(
                    f"pipelines[{index}].feature_group {pipeline.feature_group!r} is not a features name; "
                    f"expected one of: {', '.join(groups) or '(none: add the group to features)'}"
                )
            if group.stage.value != "production" or group.table_format.value != "Glue":
                raise ValueError(
                    f"pipelines[{index}].feature_group {group.name!r} is a {group.stage.value} group in the "
                    f"{group.table_format.value} table format; a pipeline trains on production groups in the Glue "
                    "format: sandbox offline stores are writable by data scientists (a file dropped there would be "
                    "read as records), and an Iceberg table's current state needs a table reader (its metadata), "
                    "not the file walk the pipeline does; set stage: production and table_format: Glue on the group"
                )
            types = {f.name: f.type.value for f in group.features}
            columns = {
                "target_column": pipeline.target_column,
                "bias.facet": pipeline.bias.facet,
            }
            for key, column in columns.items():
                if column in (group.record_identifier, group.event_time) or types.get(column) not in (
                    "Integral",
                    "Fractional",
                ):
                    numeric = [
                        n
                        for n, t in types.items()
                        if t != "String" and n not in (group.record_identifier, group.event_time)
                    ]
                    raise ValueError(
                        f"pipelines[{index}].{key} {column!r} is not a numeric feature of feature group "
                        f"{group.name!r} (the pipeline trains on its Integral and Fractional features, not the "
                        f"record identifier or event time); expected one of: {', '.join(numeric) or '(none)'}"
                    )
        return self

    @model_validator(mode="after")
    def _pipelines_of_one_model_read_one_input(self) -> PlatformSettings:
        # The drift checks compare a new version with the latest approved one's baselines, column by column
        # (headerless CSV): versions of one model must come from data of the same shape.
        inputs: dict[str, tuple[str, str]] = {}
        for pipeline in self.pipelines:
            source = (
                f"feature group {pipeline.feature_group!r}" if pipeline.feature_group else "CSV under the raw prefix"
            )
            first, first_source = inputs.setdefault(pipeline.model, (pipeline.name, source))
            if source != first_source:
                raise ValueError(
                    f"pipelines {first!r} and {pipeline.name!r} register into model {pipeline.model!r} from different "
                    f"inputs ({first_source}; {source}): its versions' drift checks compare columns by position, so "
                    "one model's pipelines read one input; give one of them its own registry.models entry"
                )
        return self

    @model_validator(mode="after")
    def _pipeline_role_names_fit(self) -> PlatformSettings:
        for index, pipeline in enumerate(self.pipelines):
            role = f"{self.name_prefix}-pipeline-{pipeline.name}-schedule"
            if len(role) > 64:
                raise ValueError(
                    f"pipelines[{index}].name {pipeline.name!r} makes the role name {role!r} longer than IAM's "
                    f"64 characters; use at most {64 - len(role) + len(pipeline.name)} characters"
                )
        return self

    @model_validator(mode="after")
    def _governance_fits_the_stack(self) -> PlatformSettings:
        from .governance import check_governance

        check_governance(self)
        return self

    @property
    def name_prefix(self) -> str:
        """Prefix of physical names: `<project>-<env>`."""
        return f"{PROJECT}-{self.environment.value}"

    @property
    def default_tags(self) -> dict[str, str]:
        """The tags every taggable resource carries."""
        return {
            "env": self.environment.value,
            "project": PROJECT,
            "team": self.tags.team,
            "cost-center": self.tags.cost_center,
        }
