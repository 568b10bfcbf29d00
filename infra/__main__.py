"""Pulumi entry point (`main: infra/` in Pulumi.yaml)."""

import pulumi
from mlops_platform.infra import collector, program

# The language host runs the program once per process: keep the cyclic collector off the imported heap
# (pulumi-aws/kubernetes, ~1M objects) during registration and at exit; why and the memory bound: infra/collector.py.
collector.hold()
for key, value in program.main().items():
    pulumi.export(key, value)
