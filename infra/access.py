"""Wiring of the `access` section: the persona roles, their boundary, and the CI roles' policies, with
every capability's persona and deployer statements collected through the capability contract."""

from __future__ import annotations

from mlops_platform.components.access import GitHubTrust, Persona, PersonaRoles
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.governance import (
    governance_boundary_statements,
    governance_deployer_regions,
    governance_extra_boundary_arns,
)
from mlops_platform.infra.registry import repository_arns
from mlops_platform.infra.storage import Storage


class AccessCapability(Capability):
    """The persona roles (data scientist, ML engineer, training, inference, CI deployer, previewer and drift reader)."""

    name = "access"

    def build(self, platform: Platform) -> PersonaRoles:
        settings = platform.settings
        access = settings.access
        built = platform.result("storage", Storage)
        lake, key = built.lake, built.key
        return PersonaRoles(
            "personas",
            {
                "name_prefix": settings.name_prefix,
                "account_id": settings.account,
                "region": settings.region,
                "kms_key_arn": key.arn,
                "bucket_arns": {zone: bucket.arn for zone, bucket in lake.buckets.items()},
                "principal_arns": {
                    Persona.DATA_SCIENTIST: access.personas.data_scientist,
                    Persona.ML_ENGINEER: access.personas.ml_engineer,
                    Persona.MODEL_APPROVER: access.personas.model_approver,
                },
                "github": GitHubTrust(
                    subject=access.github.subject,
                    oidc_provider_arn=access.github.oidc_provider_arn,
                    preview_subjects=access.github.preview_subjects,
                    drift_subjects=access.github.drift_subjects,
                ),
                "max_session_hours": access.max_session_hours,
                "state_bucket": access.state_bucket,
                "state_key_arn": access.state_key_arn,
                "secrets_key_arn": access.secrets_key_arn,
                "environment": settings.environment.value,
                "ecr_repository_arns": repository_arns(settings),
                "deployer_policies": platform.deployer_statements(),
                "extra_statements": platform.persona_statements(),
                # The governance capabilities' grants live in their own inline policies (the persona boundary is
                # near IAM's 6,144-character limit); the boundary admits them coarsely.
                "boundary_statements": governance_boundary_statements(settings),
                "deployer_regions": governance_deployer_regions(settings),
                "extra_boundary_arns": governance_extra_boundary_arns(settings),
            },
            platform.base,
        )

    def outputs(self, platform: Platform) -> dict:
        personas = platform.result(self.name, PersonaRoles)
        return {"roles": {persona.value: role.arn for persona, role in personas.roles.items()}}


CAPABILITY = AccessCapability()
