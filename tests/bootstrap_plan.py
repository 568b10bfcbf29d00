"""The bootstrap stack's plan under mocks, recorded once per test session (like `conftest.plan_for`)."""

from __future__ import annotations

import functools

import yaml
from mlops_platform.infra.bootstrap.bootstrap_config import BootstrapSettings, parse_bootstrap
from mlops_platform.infra.tooling import offline

from tests.conftest import REPO

BOOTSTRAP_DIR = REPO / "infra" / "bootstrap"
STACK_FILE = BOOTSTRAP_DIR / "Pulumi.org.yaml"


def bootstrap_settings() -> BootstrapSettings:
    """The validated bootstrap config."""
    prefix = "mlops-bootstrap:"
    raw = yaml.safe_load(STACK_FILE.read_text())["config"]
    return parse_bootstrap({k.removeprefix(prefix): v for k, v in raw.items() if k.startswith(prefix)})


@functools.cache
def bootstrap_plan() -> offline.Plan:
    """What the bootstrap program registers for `Pulumi.org.yaml` (the offline preview's own entry point)."""
    from mlops_platform.infra.bootstrap import preview_bootstrap

    return preview_bootstrap("org")
