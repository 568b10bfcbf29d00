"""The offline preview imports only what the stack uses: provider modules of the resources it registers,
and none of the tools that only tests, policy packs or pipeline rendering need."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml
from mlops_platform.infra.config import PROJECT, PlatformSettings
from mlops_platform.infra.tooling.offline import STACKS_DIR

from tests.conftest import REPO

PROBE = """
import json, sys
from mlops_platform.infra.tooling.cli import main
code = main(["preview", "--stack", "dev", "--stacks-dir", sys.argv[1], "--json", sys.argv[2]])
loaded = [name for name, module in sys.modules.items() if type(module).__name__ != "_LazyModule"]
packages = [name for name in loaded if hasattr(sys.modules[name], "__path__")]
json.dump({"code": code, "loaded": loaded, "packages": packages}, open(sys.argv[3], "w"))
"""

NOT_ON_THE_PREVIEW_PATH = (
    "sagemaker",  # ~7 s and boto3 clients at import: only `pipelines render`
    "jsonschema",  # tests
    "kubernetes_validate",  # tests
    "pulumi_policy",  # the policy pack under `pulumi preview --policy-pack`
    "boto3",
    "botocore.session",  # enums come from botocore's JSON models, read directly
    "pandas",
)


def _minimal_stack(folder):
    """dev's stack file reduced to the sections PlatformSettings requires (no training, endpoints, pipelines)."""
    required = {name for name, field in PlatformSettings.model_fields.items() if field.is_required()}
    document = yaml.safe_load((STACKS_DIR / "Pulumi.dev.yaml").read_text())
    document["config"] = {
        key: value
        for key, value in document["config"].items()
        if not key.startswith(f"{PROJECT}:") or key.removeprefix(f"{PROJECT}:") in required
    }
    (folder / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document))
    return folder


def test_a_stack_without_optional_sections_loads_only_the_provider_modules_it_registers(tmp_path):
    stacks = _minimal_stack(tmp_path)
    plan_file, probe_file = tmp_path / "plan.json", tmp_path / "probe.json"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(stacks), str(plan_file), str(probe_file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    probe = json.loads(probe_file.read_text())
    assert probe["code"] == 0
    types = {r["type"] for r in json.loads(plan_file.read_text())["resources"]}

    # A provider's service package (pulumi_aws.eks, pulumi_kubernetes.core) is loaded only if the plan has a
    # resource of that service (aws:eks/..., kubernetes:core/v1:...).
    used = {
        ("pulumi_aws" if t.startswith("aws:") else "pulumi_kubernetes", t.split(":")[1].split("/")[0]) for t in types
    }
    loaded_services = {
        (package, name.split(".")[1])
        for name in probe["packages"]
        for package in ("pulumi_aws", "pulumi_kubernetes")
        if name.startswith(f"{package}.") and not name.split(".")[1].startswith("_")
    }
    assert loaded_services <= used, f"imported without a resource of theirs: {sorted(loaded_services - used)}"
    assert not any(t.startswith(("kubernetes:", "aws:eks", "aws:sagemaker")) for t in types)  # the reduced stack

    loaded = set(probe["loaded"])
    assert not [m for m in NOT_ON_THE_PREVIEW_PATH if m in loaded]
