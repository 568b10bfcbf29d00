"""The project files: Pulumi.yaml against Pulumi's published schema, the entry point, the package layout."""

from __future__ import annotations

import ast
import json
import tomllib

import jsonschema
import yaml

from tests.conftest import REFERENCE, REPO


def test_pulumi_yaml_matches_pulumis_project_schema():
    schema = json.loads((REFERENCE / "pulumi-project.schema.json").read_text())
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)
    assert project["name"] == "mlops-platform"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv"}}
    assert (project["main"], project["stackConfigDir"]) == ("infra/", "stacks")


def test_pulumi_yaml_schema_rejects_a_project_without_runtime():
    schema = json.loads((REFERENCE / "pulumi-project.schema.json").read_text())
    broken = {k: v for k, v in yaml.safe_load((REPO / "Pulumi.yaml").read_text()).items() if k != "runtime"}
    try:
        jsonschema.validate(broken, schema)
    except jsonschema.ValidationError as exc:
        assert "runtime" in exc.message
        return
    raise AssertionError("the schema accepted a project without a runtime")


def test_entry_point_stays_a_few_lines():
    source = (REPO / "infra" / "__main__.py").read_text()
    assert len(ast.parse(source).body) <= 5


def test_components_import_nothing_from_infra():
    for path in (REPO / "components").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [m for m in imported if m.split(".")[0] == "infra" or m.startswith("mlops_platform.infra")], path


def test_distribution_ships_the_importable_packages():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert {"mlops_platform", "components", "pipelines", "infra", "policies"} <= set(packages)
    # Each top-level folder ships under the one namespaced package: nothing generic at the top of site-packages.
    sources = project["tool"]["hatch"]["build"]["targets"]["wheel"]["sources"]
    assert sources == {name: f"mlops_platform/{name}" for name in ("components", "pipelines", "infra", "policies")}
    assert project["project"]["scripts"]["mlops-platform"] == "mlops_platform.infra.tooling.cli:run"


def test_stack_files_exist_for_each_environment():
    assert sorted(p.name for p in (REPO / "stacks").glob("Pulumi.*.yaml")) == [
        "Pulumi.dev.yaml",
        "Pulumi.prod.yaml",
        "Pulumi.staging.yaml",
    ]


def test_program_modules_shadow_no_other_module():
    """Pulumi runs `main: infra/` with runpy, which puts infra/ first on sys.path: an `infra/platform.py` would
    replace the stdlib `platform`, an `infra/pipelines.py` this project's `pipelines` package, for every import."""
    import sys
    from importlib.metadata import packages_distributions

    taken = set(sys.stdlib_module_names) | set(packages_distributions())
    taken |= {"components", "pipelines", "policies", "mlops_platform"}
    names = [p.stem for p in (REPO / "infra").glob("*.py")] + [p.name for p in (REPO / "infra").iterdir() if p.is_dir()]
    assert sorted(set(names) & taken) == []


RUN_AS_PULUMI_DOES = """
import runpy, sys
from mlops_platform.infra.tooling import offline
config = offline.stack_config("dev")
# The language host imports none of the project before running infra/: forget it, keep only the recorder.
for name in [m for m in sys.modules if m.split(".")[0] in ("mlops_platform", "infra", "components", "pipelines",
                                                           "policies")]:
    del sys.modules[name]
plan = offline.record(lambda: runpy.run_path("infra", run_name="__main__"), stack="dev", config=config,
                      account=config["mlops-platform:account"])
generic = sorted(m for m in sys.modules if m.split(".")[0] in ("infra", "components", "pipelines", "policies"))
print(len(plan.resources), sum(r.type == "aws:s3/bucket:Bucket" for r in plan.resources), len(generic), generic[:3])
"""


def test_entry_point_runs_the_way_the_pulumi_language_host_runs_it():
    """`runpy.run_path` on the program directory, in a fresh interpreter, as the Python language host does."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", RUN_AS_PULUMI_DOES], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    resources, buckets, generic = map(int, done.stdout.split()[:3])
    assert resources > 100 and buckets == 6  # the data lake's five and the audit bucket
    # Every module of the project was imported through `mlops_platform` (no second copy under a generic name).
    assert generic == 0, done.stdout
