"""The contract every capability's wiring module meets, and the platform it builds into.

A capability (storage, network, access, registry, serving, ...) is one module in `infra/` that exports a
`Capability`. `build_platform` walks the list of capabilities twice over:

- before anything is built, each says what it contributes to the shared pieces: the roles that use the
  environment's key (`key_users`) and its statements in the key's policy (`key_policy_statements`), the CI
  deployer's statements for it (`deployer_statements`) and the persona statements its resources need at run
  time (`persona_statements`);
- then, in list order, each `build`s its resources from the validated settings and what earlier
  capabilities built (`Platform`), and returns what it made; `outputs` turns that into stack outputs.

So the storage capability collects every key user before it creates the key, and the access capability
collects every persona and deployer statement before it creates the roles, without either knowing the
others. A new capability is one module and one line in `infra.composition.CAPABILITIES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pulumi

if TYPE_CHECKING:
    import pulumi_aws as aws
    from mlops_platform.components._iam import Statement
    from mlops_platform.components.access import Persona
    from mlops_platform.infra.config import PlatformSettings

T = TypeVar("T")


@dataclass
class Platform:
    """What is shared while the stack is built: the settings, the AWS provider, the resource options, and
    every capability's result so far (by capability name)."""

    settings: PlatformSettings
    """The validated stack config."""
    provider: aws.Provider
    """The explicit AWS provider (account guard, default tags)."""
    base: pulumi.ResourceOptions
    """Options of every resource: the explicit provider."""
    stateful: pulumi.ResourceOptions
    """Options of stateful resources: the provider plus the stack's protect / retain-on-delete settings."""
    capabilities: Sequence[Capability]
    """Every capability of the stack, in build order (for the contributions collected by storage and access)."""
    results: dict[str, Any] = field(default_factory=dict)
    """What each capability's `build` returned, by capability name."""

    def result(self, name: str, kind: type[T]) -> T:
        """The result of the capability `name`, built earlier; a programming error if it was not built yet."""
        value = self.results.get(name)
        if not isinstance(value, kind):
            raise RuntimeError(f"capability {name!r} must be built before it is used (got {value!r})")
        return value

    def key_users(self) -> list[str]:
        """Role ARNs every capability asks the environment key to allow, in capability order."""
        return [arn for capability in self.capabilities for arn in capability.key_users(self.settings)]

    def key_policy_statements(self) -> list[Statement]:
        """Further key-policy statements every capability adds to the environment key, in capability order."""
        return [s for capability in self.capabilities for s in capability.key_policy_statements(self.settings)]

    def deployer_statements(self) -> dict[str, list[Statement]]:
        """The CI deployer's statements by capability; capabilities with none are left out."""
        policies = {c.name: list(c.deployer_statements(self.settings)) for c in self.capabilities}
        return {name: statements for name, statements in policies.items() if statements}

    def persona_statements(self) -> dict[Persona, list[Statement]]:
        """Every capability's run-time persona statements, merged per persona in capability order."""
        merged: dict[Persona, list[Statement]] = {}
        for capability in self.capabilities:
            for persona, statements in capability.persona_statements(self).items():
                merged.setdefault(persona, []).extend(statements)
        return merged


class Capability:
    """One capability's wiring: its contributions to the shared pieces and its `build`. Every method but
    `build` has a default that contributes nothing."""

    name: str = ""
    """Short name: the key of its result in `Platform.results` and of its CI deployer policy."""

    def key_users(self, settings: PlatformSettings) -> Sequence[str]:
        """Role ARNs (known before they exist) that must be allowed to use the environment's key."""
        return ()

    def key_policy_statements(self, settings: PlatformSettings) -> Sequence[Statement]:
        """Statements this capability adds to the environment key's policy (a service's use of the key,
        another account's read of shared artifacts)."""
        return ()

    def deployer_statements(self, settings: PlatformSettings) -> Sequence[Statement]:
        """What the CI deployer needs to deploy this capability (its own managed policy)."""
        return ()

    def persona_statements(self, platform: Platform) -> Mapping[Persona, Sequence[Statement]]:
        """Run-time statements this capability's resources need on persona roles. Called by the access
        capability, so it may use the results of capabilities built before access (the network)."""
        return {}

    def build(self, platform: Platform) -> Any:
        """Register the capability's resources; the return value is stored in `platform.results`."""
        raise NotImplementedError

    def outputs(self, platform: Platform) -> Mapping[str, Any]:
        """Stack outputs of this capability, from its result."""
        return {}


def deployer_environment(settings: PlatformSettings) -> Any:
    """The environment as the CI deployer's capability statements take it (account, region, prefix, env)."""
    from mlops_platform.components.deployer_capabilities import Environment

    return Environment(settings.account, settings.region, settings.name_prefix, settings.environment.value)
