"""Pulumi entry point of the bootstrap project (`infra/bootstrap/Pulumi.yaml`)."""

import pulumi
from mlops_platform.infra.bootstrap.bootstrap_program import main

for key, value in main().items():
    pulumi.export(key, value)
