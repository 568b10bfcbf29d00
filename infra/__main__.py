"""Pulumi entry point (`main: infra/` in Pulumi.yaml)."""

import pulumi
from mlops_platform.infra.program import main

for key, value in main().items():
    pulumi.export(key, value)
