"""What a consumer installs: the core components need neither pulumi-kubernetes nor pulumi-policy, and the
distribution says so (extras) and ships its type information."""

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_BLOCKED_IMPORT = """
import sys
sys.modules["pulumi_kubernetes"] = None  # as if not installed
sys.modules["pulumi_policy"] = None
import mlops_platform.components.provider, mlops_platform.components.types, mlops_platform.components.roles
import mlops_platform.policies
from mlops_platform.components import provider
# every component but the three GPU-training ones (TrainingCluster, GpuCapacity, Tenancy) is core
assert len(provider.CORE_COMPONENTS) == 25
try:  # the package loads its names on first use (PEP 562); using a GPU-training component needs the extra
    from mlops_platform.components.training import TrainingCluster
except ImportError as error:
    assert "pulumi_kubernetes" in str(error), error
else:
    raise AssertionError("mlops_platform.components.training.TrainingCluster imported without pulumi-kubernetes")
"""


def test_core_components_and_policy_rules_import_without_kubernetes_or_policy_sdk():
    result = subprocess.run([sys.executable, "-c", _BLOCKED_IMPORT], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_kubernetes_and_policy_sdk_are_extras_not_requirements():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    required = " ".join(project["dependencies"])
    assert "pulumi-kubernetes" not in required and "pulumi-policy" not in required
    extras = project["optional-dependencies"]
    assert any(d.startswith("pulumi-kubernetes") for d in extras["kubernetes"])
    assert any(d.startswith("pulumi-policy") for d in extras["policy"])


def test_only_the_training_modules_import_pulumi_kubernetes():
    importers = {
        str(path.relative_to(REPO))
        for path in (REPO / "components").rglob("*.py")
        if "pulumi_kubernetes" in path.read_text()
    }
    assert importers <= {"components/tenancy.py"} | {
        str(p.relative_to(REPO)) for p in (REPO / "components" / "training").glob("*.py")
    }


def test_packages_ship_py_typed():
    for package in ("components", "pipelines", "policies"):
        assert (REPO / package / "py.typed").exists(), package
