"""Kueue manages every Job in the team namespaces (no bypass by leaving out the queue label), team namespaces
enforce Pod Security `restricted`, and the example job is admitted under it."""

from __future__ import annotations

import pytest
import yaml
from mlops_platform.components.tenancy import KUEUE_DEFAULT_CONFIG, kueue_manager_config, kueue_values

from tests.conftest import REPO, STACKS, plan_for
from tests.pod_security import restricted_violations

CHART_VALUES = REPO / "tests" / "fixtures" / "helm-values" / "kueue-0.14.2.values.yaml"


def chart_default_config() -> dict:
    return yaml.safe_load(yaml.safe_load(CHART_VALUES.read_text())["managerConfig"]["controllerManagerConfigYaml"])


def test_manager_config_is_the_chart_default_plus_managing_unlabelled_jobs_in_team_namespaces():
    assert dict(KUEUE_DEFAULT_CONFIG) == chart_default_config()  # nothing of the chart's default is lost
    config = kueue_manager_config(["vision", "nlp"])
    added = {k: v for k, v in config.items() if k not in KUEUE_DEFAULT_CONFIG}
    assert added == {
        "manageJobsWithoutQueueName": True,
        "managedJobsNamespaceSelector": {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["nlp", "vision"]}]
        },
    }
    # Both are fields of Kueue's Configuration API (the chart documents them as commented examples).
    raw = CHART_VALUES.read_text()
    assert "#manageJobsWithoutQueueName: true" in raw and "#managedJobsNamespaceSelector:" in raw


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_installs_kueue_managing_all_team_jobs(stack):
    plan = plan_for(stack)
    [release] = [r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("name") == "kueue"]
    assert set(release.inputs["values"]) == {"managerConfig"}  # only what the chart has
    config = yaml.safe_load(release.inputs["values"]["managerConfig"]["controllerManagerConfigYaml"])
    namespaces = sorted(
        r.inputs["metadata"]["name"]
        for r in plan.of_type("kubernetes:core/v1:Namespace")
        if "pod-security.kubernetes.io/enforce" in r.inputs["metadata"].get("labels", {})
    )
    assert config["manageJobsWithoutQueueName"] is True
    assert config["managedJobsNamespaceSelector"]["matchExpressions"][0]["values"] == namespaces
    assert "kube-system" not in namespaces and "kueue-system" not in namespaces
    assert kueue_values(namespaces) == release.inputs["values"]


@pytest.mark.parametrize("stack", STACKS)
def test_team_namespaces_enforce_pod_security_restricted(stack):
    teams = [
        r for r in plan_for(stack).of_type("kubernetes:core/v1:Namespace")
        if "pod-security.kubernetes.io/enforce" in r.inputs["metadata"].get("labels", {})
    ]  # fmt: skip
    assert teams
    for namespace in teams:
        assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_example_job_is_admitted_under_restricted():
    [job] = [d for d in yaml.safe_load_all((REPO / "examples" / "ddp-job" / "job.yaml").read_text()) if d and
             d["kind"] == "Job"]  # fmt: skip
    assert restricted_violations(job["spec"]["template"]["spec"]) == []


@pytest.mark.parametrize(
    ("change", "violation"),
    [
        (lambda spec: spec["securityContext"].pop("runAsNonRoot"), "runAsNonRoot must be true"),
        (lambda spec: spec["containers"][0]["securityContext"].update(privileged=True), "privileged"),
        (lambda spec: spec["volumes"].append({"name": "host", "hostPath": {"path": "/"}}), "hostPath"),
        (lambda spec: spec["containers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
         "SYS_ADMIN"),
        (lambda spec: spec["securityContext"].pop("seccompProfile"), "seccompProfile"),
    ],
)  # fmt: skip
def test_the_checker_refuses_what_restricted_refuses(change, violation):
    [job] = [d for d in yaml.safe_load_all((REPO / "examples" / "ddp-job" / "job.yaml").read_text()) if d and
             d["kind"] == "Job"]  # fmt: skip
    spec = job["spec"]["template"]["spec"]
    change(spec)
    assert any(violation in v for v in restricted_violations(spec))
