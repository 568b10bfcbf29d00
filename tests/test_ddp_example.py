"""examples/ddp-job: the PyTorch DDP job a team submits through its LocalQueue is valid Kubernetes for every
stack's cluster version and fits what the platform gives a team."""

from __future__ import annotations

import ast
import json
import re
import textwrap

import pytest
import yaml
from mlops_platform.components.tenancy import LOCAL_QUEUE, SERVICE_ACCOUNT
from mlops_platform.infra.config import parse_settings
from mlops_platform.infra.tooling.offline import record, stack_config

from tests.config.test_bad_config import GOOD
from tests.conftest import REPO, STACKS
from tests.k8s import problems

EXAMPLE = REPO / "examples" / "ddp-job"


def documents() -> list[dict]:
    return [d for d in yaml.safe_load_all((EXAMPLE / "job.yaml").read_text()) if d]


def by_kind(kind: str) -> dict:
    [found] = [d for d in documents() if d["kind"] == kind]
    return found


def config_map() -> dict:
    """The ConfigMap kustomize generates from the kustomization (name, namespace, files)."""
    kustomization = yaml.safe_load((EXAMPLE / "kustomization.yaml").read_text())
    [generator] = kustomization["configMapGenerator"]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": generator["name"], "namespace": kustomization["namespace"]},
        "data": {name: (EXAMPLE / name).read_text() for name in generator["files"]},
    }


@pytest.mark.parametrize("stack", STACKS)
def test_every_manifest_validates_strictly_for_the_stacks_kubernetes_version(stack):
    version = json.loads(stack_config(stack)["mlops-platform:training"])["kubernetes_version"]
    assert [p for d in [*documents(), config_map()] for p in problems(d, version)] == []


def test_job_goes_through_the_teams_local_queue_as_a_suspended_indexed_job():
    job = by_kind("Job")
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == LOCAL_QUEUE
    spec = job["spec"]
    assert spec["suspend"] is True and spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"]
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == SERVICE_ACCOUNT
    assert spec["template"]["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"


def test_torchrun_world_matches_the_job_and_the_gpus_it_requests():
    job = by_kind("Job")
    [container] = job["spec"]["template"]["spec"]["containers"]
    flags = dict(arg.removeprefix("--").split("=", 1) for arg in container["command"] if arg.startswith("--"))
    gpus = container["resources"]["limits"]["nvidia.com/gpu"]
    assert container["resources"]["requests"]["nvidia.com/gpu"] == gpus
    assert int(flags["nnodes"]) == job["spec"]["completions"]
    assert int(flags["nproc-per-node"]) == int(gpus)
    assert flags["node-rank"] == "$(JOB_COMPLETION_INDEX)"
    service = by_kind("Service")
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["selector"] == {
        "job-name": job["metadata"]["name"]
    }
    assert flags["master-addr"] == f"{job['metadata']['name']}-0.{service['metadata']['name']}"
    assert job["spec"]["template"]["spec"]["subdomain"] == service["metadata"]["name"]


def test_job_fits_the_dev_team_it_is_written_for():
    namespace = yaml.safe_load((EXAMPLE / "kustomization.yaml").read_text())["namespace"]
    teams = {t["name"]: t for t in json.loads(stack_config("dev")["mlops-platform:training"])["teams"]}
    team = teams[namespace]
    job = by_kind("Job")
    [container] = job["spec"]["template"]["spec"]["containers"]
    total_gpus = int(container["resources"]["limits"]["nvidia.com/gpu"]) * job["spec"]["parallelism"]
    assert total_gpus <= team["gpu_quota"] + team.get("borrowing_limit_gpus", 0)


def test_training_script_is_a_ddp_program():
    tree = ast.parse((EXAMPLE / "train.py").read_text())
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert {"init_process_group", "destroy_process_group"} <= names
    assert "DistributedDataParallel" in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def test_operator_guide_team_entry_is_a_valid_training_config():
    readme = (REPO / "docs" / "operator-guide.md").read_text()
    section = readme.split("### How a team gets GPUs and submits a job", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    entry = yaml.safe_load(textwrap.dedent(block))["mlops-platform:training"]
    config = {
        **GOOD,
        "training": {
            "kubernetes_version": "1.35",
            "gpu_pools": [{"name": "gpu-small", "instance_families": ["g6"], "max_gpus": 16}],
            **entry,
        },
    }
    [team] = parse_settings(config).training.teams
    assert (team.name, team.gpu_pool, team.gpu_quota, team.borrowing_limit_gpus) == ("vision", "gpu-small", 8, 4)


def test_operator_guide_component_example_builds_a_cluster_with_gpu_pools_and_a_team():
    section = (REPO / "docs" / "operator-guide.md").read_text().split("## GPU training on EKS", 1)[1]
    [example] = [b for b in re.findall(r"```python\n(.*?)```", section, re.S) if "TrainingCluster(" in b]
    plan = record(lambda: exec(compile(example, "docs/operator-guide.md", "exec"), {}))
    assert plan.get("aws:eks/cluster:Cluster", "ml-cluster").inputs["vpcConfig"]["endpointPublicAccess"] is False
    pool = plan.get("kubernetes:karpenter.sh/v1:NodePool", "ml-gpu-pool-a10g").inputs["spec"]
    assert pool["limits"] == {"nvidia.com/gpu": "8"}
    queue = plan.get("kubernetes:kueue.x-k8s.io/v1beta1:LocalQueue", "ml-teams-vision-local-queue")
    assert queue.inputs["metadata"]["namespace"] == "vision"
