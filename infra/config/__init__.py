"""Stack config: pydantic models for every `mlops-platform:` key, and the one place that validates them.

Errors are raised as `ConfigError` (a `pulumi.RunError`, which the CLI prints without a traceback)
naming the key path, the value and what is accepted, before any resource is registered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from .platform import PROJECT, Environment, PlatformSettings

__all__ = ["PROJECT", "ConfigError", "Environment", "PlatformSettings", "parse_settings", "settings_from_pulumi"]


class ConfigError(pulumi.RunError):
    """A stack config that does not validate; the message names every bad key."""


def parse_settings(raw: Mapping[str, Any], stack: str | None = None) -> PlatformSettings:
    """Validate the un-namespaced config map (`{"environment": "dev", "storage": {...}}`).

    `stack`, when given, must equal the configured environment, so a prod file can't be applied to dev.
    """
    try:
        settings = PlatformSettings.model_validate(dict(raw))
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    if stack is not None and settings.environment.value != stack:
        raise ConfigError(
            f"invalid stack config:\n  {PROJECT}:environment = {settings.environment.value!r}: "
            f"the stack is {stack!r}; each stack file must configure its own environment"
        )
    return settings


def settings_from_pulumi() -> PlatformSettings:
    """Read and validate this stack's `mlops-platform:` config from the running Pulumi program; credentials in it
    must be Pulumi secrets."""
    settings = parse_settings(_namespace_config(PROJECT), stack=pulumi.get_stack())
    check_credentials_are_secret(settings, _secret_keys())
    return settings


def check_credentials_are_secret(settings: PlatformSettings, secret_keys: set[str]) -> None:
    """Refuse a credential-bearing value kept in plain text in the stack file (it would sit in Git, in the state
    and in every preview posted to a pull request)."""
    from mlops_platform.components.monitoring import SECRET_PROTOCOLS, UNREADABLE_SECRET

    plain = [
        f"{PROJECT}:monitoring.alert_subscriptions[{index}].endpoint"
        for index, subscription in enumerate(settings.monitoring.alert_subscriptions)
        if subscription.protocol.value in {p.value for p in SECRET_PROTOCOLS}
        and f"{PROJECT}:monitoring" not in secret_keys
        and subscription.endpoint != UNREADABLE_SECRET  # a secure value the offline preview cannot decrypt
    ]
    if plain:
        raise ConfigError(
            "invalid stack config:\n"
            + "\n".join(
                f"  {key}: an https endpoint carries its receiver's key; store it as a secret: "
                f"pulumi config set --secret --path '{key}' <url>"
                for key in plain
            )
        )


def _secret_keys() -> set[str]:
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.get_config_secret_keys_env())
    return keys | {k for k in _namespace_keys() if runtime_config.is_config_secret(k)}


def _namespace_keys() -> list[str]:
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return [key for key in merged if key.startswith(f"{PROJECT}:")]


def _namespace_config(namespace: str) -> dict[str, Any]:
    # The engine passes config as PULUMI_CONFIG (or the Automation API / mocks set it in-process);
    # pulumi.Config has no way to list keys, and listing is what lets unknown keys be rejected.
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{namespace}:"
    return {
        key[len(prefix) :]: _decode(value)
        for key, value in merged.items()
        if key.startswith(prefix) and ":config:" not in key
    }


def _decode(value: Any) -> Any:
    # Pulumi passes structured values as JSON text and scalars as plain text; scalars stay text so an
    # account ID keeps its leading zeros, and pydantic converts "30" or "true" where a number or bool is due.
    if isinstance(value, str) and value[:1] in "{[":
        return json.loads(value)
    return value


def _describe(exc: ValidationError) -> str:
    lines = ["invalid stack config:"]
    for error in exc.errors():
        loc = [str(part) for part in error["loc"] if not isinstance(part, int)]
        key = f"{PROJECT}:{'.'.join(str(part) for part in error['loc'])}"
        if error["type"] == "extra_forbidden":
            accepted = _accepted_keys(PlatformSettings, loc[:-1])
            lines.append(f"  {key}: unknown key; accepted keys here: {', '.join(accepted)}")
        elif not loc:
            # A check across sections: its message names the keys; the input is the whole config.
            lines.append(f"  {key} {error['msg'].removeprefix('Value error, ')}")
        elif error["type"] == "missing":
            lines.append(f"  {key}: required key is missing")
        else:
            message = error["msg"].removeprefix("Value error, ")
            if not error["loc"]:
                # A cross-section check on the root model: its message names the keys itself.
                lines.append(f"  {PROJECT}: {message}")
            elif isinstance(error["input"], Mapping | list) and len(repr(error["input"])) > 80:
                # A check across the keys of a large object (an endpoint): the message names the keys, and the
                # whole object would bury it.
                lines.append(f"  {key}: {message}")
            else:
                lines.append(f"  {key} = {error['input']!r}: {message}")
    return "\n".join(lines)


def _accepted_keys(model: type[BaseModel], path: list[str]) -> list[str]:
    for part in path:
        if part.isdigit():  # a list index: the list's item model (found below) applies
            continue
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return []
    return sorted(model.model_fields)
