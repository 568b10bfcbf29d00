"""Entry point of the policy pack: `pulumi preview --policy-pack policies`. It only builds the pack."""

import sys
from pathlib import Path

if __package__ in (None, ""):
    # The policy host runs this file as a script; make the repository's `policies` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mlops_platform.policies.pack import PACK_NAME, policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=policies(),
    enforcement_level=EnforcementLevel.ADVISORY,
    description="Security baseline of the mlops-platform stacks (see docs/security-model.md, 'Policy as code').",
)
