"""The program's entry: validate this stack's config, then build the platform. Returns the stack outputs."""

from __future__ import annotations

from typing import Any

from mlops_platform.infra.composition import build_platform
from mlops_platform.infra.config import settings_from_pulumi


def main() -> dict[str, Any]:
    """Validate config (raising `ConfigError` before anything is registered) and build the platform."""
    return build_platform(settings_from_pulumi())
