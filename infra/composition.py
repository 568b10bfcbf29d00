"""Composition: the environment's capabilities, built in order from the validated settings.

Each capability is one wiring module with the contract in `infra.capability`; this module only creates the
AWS provider, walks `CAPABILITIES` and gathers the stack outputs.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from mlops_platform.infra import (
    access,
    audit,
    ci_runner,
    disaster_recovery,
    features,
    governance,
    model_sharing,
    network,
    registry,
    service_roles,
    serving,
    storage,
    training,
    training_pipelines,
)
from mlops_platform.infra.capability import Capability, Platform
from mlops_platform.infra.config import PlatformSettings
from mlops_platform.infra.monitoring import CAPABILITY as MONITORING
from mlops_platform.infra.monitoring import DASHBOARD

CAPABILITIES: tuple[Capability, ...] = (
    storage.CAPABILITY,  # the env key (collecting every capability's key users) and the data lake
    service_roles.CAPABILITY,  # the boundary of service roles, which the network's flow-log role carries
    network.CAPABILITY,
    training_pipelines.JOB_NETWORK,  # the pipelines' job security group, which the ML engineer's job rights name
    access.CAPABILITY,  # the persona roles (collecting every capability's persona and deployer statements)
    governance.CAPABILITY,  # the feature store's and MLflow's persona grants, the data-service boundary
    registry.CAPABILITY,
    MONITORING,  # the alert topic, before the alarms and rules that notify it
    serving.CAPABILITY,
    model_sharing.CAPABILITY,
    audit.CAPABILITY,  # after monitoring: its alarms notify the alert topic
    features.CAPABILITY,
    disaster_recovery.CAPABILITY,
    DASHBOARD,
    training_pipelines.CAPABILITY,
    training.CAPABILITY,
    ci_runner.CAPABILITY,  # after training: the runners reach the cluster's private API
)
"""Every capability, in build order: a capability may use the results of those before it."""


def build_platform(settings: PlatformSettings) -> dict[str, Any]:
    """Register every resource of the stack and return its outputs."""
    provider = aws.Provider(
        "aws",
        region=settings.region,
        allowed_account_ids=[settings.account],
        default_tags={"tags": settings.default_tags},
    )
    base = pulumi.ResourceOptions(providers={"aws": provider})
    stateful = pulumi.ResourceOptions.merge(
        base,
        pulumi.ResourceOptions(
            protect=settings.protection.protect_stateful,
            retain_on_delete=settings.protection.retain_on_delete,
        ),
    )
    platform = Platform(settings=settings, provider=provider, base=base, stateful=stateful, capabilities=CAPABILITIES)
    for capability in CAPABILITIES:
        platform.results[capability.name] = capability.build(platform)
    outputs: dict[str, Any] = {"environment": settings.environment.value}
    for capability in CAPABILITIES:
        outputs.update(capability.outputs(platform))
    return outputs
