"""The multi-language component package: every public component, hosted by Pulumi's component provider.

`PulumiPlugin.yaml` (repository root) points Pulumi at `provider_main.py`, which calls `main()`; Pulumi infers
the package schema from the components' annotations and docstrings (`pulumi.provider.experimental`), so a
TypeScript, Go, C#, Java or YAML program can `pulumi package add` this repository and use them
(docs/components-multilanguage.md). The schema's resource tokens are `mlops:index:<Component>`.
"""

from importlib import metadata

import pulumi

from . import model_monitoring, retraining
from .access import PersonaRoles
from .audit import AuditTrail
from .boundaries import ServiceRoleBoundary
from .budgets import Budgets
from .ci_runner import GitHubRunner
from .data_boundary import DataServiceBoundary
from .encryption import EncryptionKey
from .features import FeatureStore
from .monitoring import AlertTopic, EnvironmentDashboard
from .network import Network
from .pipelines import JobSecurityGroup, ModelApprovalNotifications, TrainingPipeline
from .registry import ContainerRepository, ExperimentTracking, ModelPackageGroup
from .replication import CrossRegionReplication
from .roles import ExecutionRole
from .serving import ModelEndpoint
from .storage import DataLake, SecureBucket

PACKAGE_NAME = "mlops"
"""The schema package name: the first part of every type token (`mlops:index:SecureBucket`)."""

CORE_COMPONENTS: list[type[pulumi.ComponentResource]] = [
    EncryptionKey,
    SecureBucket,
    DataLake,
    ExecutionRole,
    PersonaRoles,
    ServiceRoleBoundary,
    AlertTopic,
    EnvironmentDashboard,
    Budgets,
    Network,
    TrainingPipeline,
    ModelApprovalNotifications,
    JobSecurityGroup,
    ContainerRepository,
    ModelPackageGroup,
    ExperimentTracking,
    ModelEndpoint,
    FeatureStore,
    AuditTrail,
    CrossRegionReplication,
    DataServiceBoundary,
    GitHubRunner,
]
"""Components needing only pulumi-aws."""

# The monitoring loop: model monitors of an endpoint and the event-driven retraining of a pipeline.
CORE_COMPONENTS += [model_monitoring.ModelMonitors, retraining.PipelineRetraining, retraining.RawDataEvents]


def public_components() -> list[type[pulumi.ComponentResource]]:
    """Every public component; the GPU-training ones need the `kubernetes` extra (pulumi-kubernetes)."""
    from .tenancy import Tenancy
    from .training import GpuCapacity, TrainingCluster

    return [*CORE_COMPONENTS, TrainingCluster, GpuCapacity, Tenancy]


def version() -> str:
    """The installed distribution's version (the schema's version)."""
    try:
        return metadata.version("mlops-platform")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def main() -> None:
    """Serve the components to the Pulumi engine (run by the language host, not by hand)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(public_components(), name=PACKAGE_NAME, version=version())
