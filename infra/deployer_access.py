"""The CI deployer's permissions for each capability the stack deploys, as managed policies."""

from __future__ import annotations

from components import _iam
from components.deployer_capabilities import (
    Environment,
    monitoring_statements,
    network_statements,
    registry_statements,
    training_statements,
)
from infra.audit import audit_deployer_statements
from infra.config import PlatformSettings
from infra.disaster_recovery import dr_deployer_statements
from infra.features import feature_deployer_statements
from infra.serving import serving_deployer_statements
from infra.training_pipelines import pipeline_deployer_statements


def deployer_policies(settings: PlatformSettings) -> dict[str, list[_iam.Statement]]:
    """Capability → statements; capabilities the stack doesn't configure get no policy."""
    env = Environment(settings.account, settings.region, settings.name_prefix, settings.environment.value)
    policies = {
        "network": network_statements(env),
        "training": training_statements(env) if settings.training else [],
        "registry": registry_statements(env),
        "monitoring": monitoring_statements(env),
        "serving": serving_deployer_statements(settings) if settings.endpoints else [],
        "pipelines": pipeline_deployer_statements(settings),
        "features": feature_deployer_statements(settings),
        "audit": audit_deployer_statements(settings),
        "disaster-recovery": dr_deployer_statements(settings),
    }
    return {capability: statements for capability, statements in policies.items() if statements}
