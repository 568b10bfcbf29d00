"""What the governance capabilities (features, audit, disaster recovery, experiment tracking) contribute before
anything is built: env-key users and key-policy statements, persona grants, persona-boundary admissions and the
CI deployer's regions. `infra/composition.py` asks this module once for each."""

from __future__ import annotations

from typing import Any

import pulumi

from components.access import Persona
from infra.audit import audit_key_statements
from infra.config import PlatformSettings
from infra.disaster_recovery import dr_boundary_statements, dr_key_users, dr_persona_statements, dr_regions
from infra.experiments import mlflow_persona_statements
from infra.features import feature_boundary_statements, feature_key_users, feature_persona_statements

Statement = dict[str, Any]


def governance_key_users(settings: PlatformSettings) -> list[str]:
    """Roles of these capabilities that use the env key: the offline-store role, the replication role."""
    return feature_key_users(settings) + dr_key_users(settings)


def governance_key_statements(settings: PlatformSettings) -> list[Statement]:
    """Separate, additive key-policy statements: CloudTrail for this environment's trail, and the log readers."""
    return audit_key_statements(settings)


def governance_persona_statements(
    settings: PlatformSettings, kms_key_arn: pulumi.Input[str]
) -> dict[Persona, list[Statement]]:
    """Persona grants of the feature store, MLflow and the restore drill, merged per persona."""
    return merge_persona_statements(
        feature_persona_statements(settings, kms_key_arn),
        mlflow_persona_statements(settings),
        dr_persona_statements(settings),
    )


def governance_boundary_statements(settings: PlatformSettings) -> list[Statement]:
    """What the offline-store and replication roles need that no persona is granted."""
    return feature_boundary_statements(settings) + dr_boundary_statements(settings)


def governance_deployer_regions(settings: PlatformSettings) -> list[str]:
    """Regions the CI deployer works in besides the stack's: the replica region."""
    return dr_regions(settings)


def merge_persona_statements(*contributions: dict[Persona, list[Statement]]) -> dict[Persona, list[Statement]]:
    """Per-persona statement lists of several capabilities, concatenated."""
    merged: dict[Persona, list[Statement]] = {}
    for contribution in contributions:
        for persona, statements in contribution.items():
            merged.setdefault(persona, []).extend(statements)
    return merged
