"""The GitHub workflows, checked with real linters (zizmor, actionlint, check-jsonschema's vendored GitHub
workflow schema) and with structural asserts for what the linters don't enforce: SHA pins with version
comments, per-job permissions and timeouts, the promotion chain and the environments.

Each linter is also fed a deliberately bad workflow, so a linter that silently checks nothing fails here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
STACKS = ["dev", "staging", "prod"]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
SEVERITIES = ("unknown", "informational", "low", "medium", "high")
BACKEND_QUERY = "?region=${{ vars.AWS_REGION || 'us-east-1' }}&awssdk=v2"

BAD_WORKFLOW = """\
name: bad
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo ${{ steps.nope.outputs.x }}
"""


def _load(path: Path) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); map it back.
    document = yaml.safe_load(path.read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def _uses_lines(path: Path) -> list[str]:
    return [
        line.split("uses:", 1)[1].strip() for line in path.read_text().splitlines() if re.match(r"^\s*(- )?uses:", line)
    ]


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in the project environment (uv sync --group dev)")
    return str(path)


def _zizmor(target: Path) -> list[dict]:
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--persona", "auditor", "--format", "json", "--no-progress", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode in (0, *range(10, 20)), result.stderr  # 1x: findings of some severity
    return json.loads(result.stdout)


def _severity(finding: dict) -> str:
    return finding["determinations"]["severity"].lower()


def test_workflow_files_exist():
    names = {path.name for path in FILES}
    assert {"checks.yml", "pr-preview.yml", "pr-comment.yml", "deploy.yml", "pulumi-up.yml", "drift.yml"} <= names


def test_zizmor_finds_nothing_above_informational():
    findings = _zizmor(WORKFLOWS)
    serious = [
        f"{f['ident']} ({_severity(f)}): {f['desc']}"
        for f in findings
        if SEVERITIES.index(_severity(f)) > SEVERITIES.index("informational")
    ]
    assert serious == []


def test_zizmor_catches_injection_and_unpinned_actions(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW)
    idents = {f["ident"] for f in _zizmor(bad)}
    assert {"template-injection", "unpinned-uses", "dangerous-triggers"} <= idents


def test_workflows_match_the_github_workflow_schema():
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, FILES)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_rejects_a_malformed_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: bad\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    timeout-minutes: soon\n")
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1


def _actionlint(*paths: Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_tool("actionlint"), "-shellcheck", _tool("shellcheck"), "-format", "{{json .}}", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,
    )


def test_actionlint_is_clean():
    result = _actionlint(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_undefined_step_outputs(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW)
    result = _actionlint(bad, cwd=tmp_path)
    assert result.returncode == 1
    kinds = {error["kind"] for error in json.loads(result.stdout)}
    assert "expression" in kinds


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(path):
    for uses in _uses_lines(path):
        if uses.startswith("$/"):
            continue  # a reusable workflow of this repository, at the running commit
        assert PINNED.match(uses), f"{path.name}: `{uses}` is not pinned as owner/repo@<40 hex> # vX.Y.Z"


def test_each_action_has_one_pin_across_workflows():
    pins: dict[str, set[str]] = {}
    for path in FILES:
        for uses in _uses_lines(path):
            action, _, ref = uses.partition("@")
            pins.setdefault(action, set()).add(ref)
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_least_privilege_permissions(path):
    workflow = _load(path)
    assert workflow.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
    for job_id, job in workflow["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {job_id} sets no permissions"
        assert job["permissions"] not in ("write-all", "read-all")
        if "uses" not in job:  # a reusable-workflow call has no runner of its own
            assert 0 < job["timeout-minutes"] <= 60, f"{path.name}: job {job_id} timeout"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_checkouts_do_not_persist_credentials(path):
    for job in _load(path)["jobs"].values():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_event_text_is_expanded_inside_scripts(path):
    for job in _load(path)["jobs"].values():
        for step in job.get("steps", []):
            for script in (step.get("run", ""), step.get("with", {}).get("script", "")):
                where = f"{path.name}: step {step.get('name')!r}"
                assert "${{" not in script, f"{where} expands an expression inside code"


def test_pull_request_preview_runs_each_stack_with_policies_and_oidc():
    workflow = _load(WORKFLOWS / "pr-preview.yml")
    assert list(workflow["on"]) == ["pull_request"]
    job = workflow["jobs"]["preview"]
    assert matrix_stacks(job) == STACKS
    assert_preview_role_per_stack(job)
    assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert job["if"] == "${{ !github.event.pull_request.head.repo.fork }}"
    steps = {step.get("uses", "").split("@")[0]: step for step in job["steps"]}
    aws = steps["aws-actions/configure-aws-credentials"]["with"]
    assert "role-to-assume" in aws and "aws-access-key-id" not in aws
    pulumi = steps["pulumi/actions"]["with"]
    assert (pulumi["command"], pulumi["diff"], pulumi["policyPacks"]) == ("preview", True, "policies")
    script = steps["actions/github-script"]["with"]["script"]
    assert "updateComment" in script and "startsWith(marker)" in script
    composed = next(s["run"] for s in job["steps"] if s.get("name") == "Compose the comment")
    assert composed.splitlines()[1].strip() == 'echo "<!-- mlops-platform:preview:${STACK} -->"'
    assert 'cat "$RUNNER_TEMP/cost.md"' in composed


def test_forks_get_an_offline_preview_without_secrets_or_write_tokens():
    preview = _load(WORKFLOWS / "pr-preview.yml")["jobs"]["offline-preview"]
    assert preview["if"] == "${{ github.event.pull_request.head.repo.fork }}"
    assert preview["permissions"] == {"contents": "read"}
    text = yaml.safe_dump(preview)
    assert "secrets." not in text and "configure-aws-credentials" not in text
    assert "mlops-platform preview --stack" in text and "--markdown" in text

    comment = _load(WORKFLOWS / "pr-comment.yml")
    assert list(comment["on"]) == ["workflow_run"]
    assert comment["on"]["workflow_run"]["workflows"] == [_load(WORKFLOWS / "pr-preview.yml")["name"]]
    job = comment["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not any(step.get("uses", "").startswith("actions/checkout@") for step in job["steps"])
    script = job["steps"][-1]["with"]["script"]
    assert "head_sha" in script and "/^[0-9]{1,9}$/" in script


def test_deploy_runs_the_checks_then_promotes_dev_then_staging_then_prod_in_environments():
    deploy = _load(WORKFLOWS / "deploy.yml")
    assert list(deploy["on"]) == ["push"]  # no workflow_dispatch: a reviewed merge is the only way to deploy
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert jobs["checks"]["uses"] == "$/.github/workflows/checks.yml"
    stages = {name: job for name, job in jobs.items() if name != "checks"}
    assert [job["with"]["stack"] for job in stages.values()] == STACKS
    assert (jobs["dev"]["needs"], jobs["staging"]["needs"], jobs["prod"]["needs"]) == ("checks", "dev", "staging")
    assert {job["uses"] for job in stages.values()} == {"$/.github/workflows/pulumi-up.yml"}

    up = _load(WORKFLOWS / "pulumi-up.yml")
    assert list(up["on"]) == ["workflow_call"]
    job = up["jobs"]["up"]
    assert job["environment"] == {"name": "${{ inputs.stack }}"}
    assert job["concurrency"] == {"group": "pulumi-${{ inputs.stack }}", "cancel-in-progress": False}
    pulumi = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))["with"]
    assert (pulumi["command"], pulumi["stack-name"]) == ("up", "${{ inputs.stack }}")
    # the stack's own prefix; SDK v2 sends the checksums the bucket's Object Lock requires
    assert pulumi["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}/${{ inputs.stack }}" + BACKEND_QUERY
    assert "continue-on-error" not in yaml.safe_dump(job)  # a failed stage stops the chain


def test_checks_run_the_readme_test_command_and_the_linters_on_every_pull_request():
    checks = _load(WORKFLOWS / "checks.yml")
    assert set(checks["on"]) == {"pull_request", "workflow_call"}
    runs = [step.get("run", "") for step in checks["jobs"]["tests"]["steps"]]
    assert "uv run --locked ruff check ." in runs
    assert "bash .ci/run" in runs  # .ci/run ends with the README's `uv run pytest` (tests/test_docs.py checks)


def runner_label(stack_expression: str) -> str:
    """The CodeBuild runner label of a stack's project (AWS's documented `codebuild-<project>-<run>-<attempt>`)."""
    run = "${{ github.run_id }}-${{ github.run_attempt }}"
    return f"codebuild-mlops-platform-{stack_expression}-ci-runner-{run}"


def stack_settings(stack: str):
    """The stack file's validated settings."""
    from mlops_platform.infra.config import parse_settings
    from mlops_platform.infra.tooling.offline import stack_config

    raw = {
        key.split(":", 1)[1]: yaml.safe_load(value) if value[:1] in "{[" else value
        for key, value in stack_config(stack).items()
        if key.startswith("mlops-platform:")
    }
    return parse_settings(raw, stack=stack)


def test_deploy_and_drift_jobs_run_on_the_stacks_runner_inside_the_vpc():
    from mlops_platform.infra.ci_runner import runner_project_name

    assert _load(WORKFLOWS / "pulumi-up.yml")["jobs"]["up"]["runs-on"] == runner_label("${{ inputs.stack }}")
    assert _load(WORKFLOWS / "drift.yml")["jobs"]["drift"]["runs-on"] == runner_label("${{ matrix.stack }}")
    for stack in STACKS:
        settings = stack_settings(stack)
        assert settings.ci_runner is not None, f"{stack} has no ci_runner: its deploy job would never start"
        assert runner_label(stack).startswith(f"codebuild-{runner_project_name(settings)}-")
        assert {"Deploy", "Drift"} <= set(settings.ci_runner.workflows)
    names = {_load(WORKFLOWS / f)["name"] for f in ("deploy.yml", "drift.yml")}
    assert names == {"Deploy", "Drift"}  # the webhook's WORKFLOW_NAME filter starts runners for these only


def test_pull_request_workflows_never_run_inside_the_vpc():
    for name in ("pr-preview.yml", "checks.yml", "pr-comment.yml"):
        for job in _load(WORKFLOWS / name)["jobs"].values():
            assert "codebuild-" not in str(job.get("runs-on", "")), name


def test_drift_runs_nightly_per_stack_and_files_an_issue_naming_the_drifted_resources():
    drift = _load(WORKFLOWS / "drift.yml")
    assert "schedule" in drift["on"]
    job = drift["jobs"]["drift"]
    assert matrix_stacks(job) == STACKS and job["strategy"]["fail-fast"] is False
    assert_role_per_stack(job, "drift-role", "AWS_DRIFT_ROLE_ARN")  # the drift role, never the PR previewer
    assert job["concurrency"]["group"] == "pulumi-${{ matrix.stack }}"  # never alongside a deploy
    assert job["env"]["BACKEND"] == "${{ vars.PULUMI_BACKEND_URL }}/${{ matrix.stack }}" + BACKEND_QUERY
    preview = next(s["run"] for s in job["steps"] if "pulumi preview" in s.get("run", ""))
    assert "--refresh --expect-no-changes" in preview and "--json" in preview
    report = next(s["run"] for s in job["steps"] if s.get("name") == "Drift report")
    # The body lists the drifted resources (tests/test_drift.py).
    assert "uv run python -m mlops_platform.infra.tooling.drift" in report
    # The VPC runner holds no GitHub write token; a GitHub-hosted job files the issue, also when the check died.
    assert "issues" not in job["permissions"]
    issue = drift["jobs"]["issue"]
    # always(): also when the check died; on main only, like the check (a manual run elsewhere files nothing)
    assert (issue["needs"], issue["if"], issue["runs-on"]) == (
        "drift", "${{ always() && github.ref == 'refs/heads/main' }}", "ubuntu-24.04"
    )  # fmt: skip
    assert issue["permissions"] == {"issues": "write"} and matrix_stacks(issue) == STACKS
    script = issue["steps"][-1]["run"]
    assert "--label drift" in script and "gh issue create" in script and "gh issue comment" in script
    assert "did not finish" in script  # no report uploaded counts as a failure, never as clean


def test_every_stack_trusts_only_the_deploy_workflow_at_main_in_its_environment():
    # deploy jobs run pulumi-up.yml (called from deploy.yml on main) in the GitHub environment named after the
    # stack; with the repository's subject template `repo, context, job_workflow_ref` their OIDC `sub` is exactly
    # this, and the ci-deployer role trusts exactly that: another workflow, branch or environment gets nothing.
    up = _load(WORKFLOWS / "pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == {"name": "${{ inputs.stack }}"}
    for stack in STACKS:
        github = stack_settings(stack).access.github
        repo, workflows = github.repository, f"{github.repository}/.github/workflows"
        assert github.environment == stack
        assert github.subject == (
            f"repo:{repo}:environment:{stack}:job_workflow_ref:{workflows}/pulumi-up.yml@refs/heads/main"
        )
        # Pull requests may assume the previewer only; the drift role (cluster reads) trusts drift.yml at main only.
        assert github.preview_subjects == (
            f"repo:{repo}:pull_request:job_workflow_ref:{workflows}/pr-preview.yml@refs/pull/*/merge",
        )
        assert github.drift_subjects == (
            f"repo:{repo}:ref:refs/heads/main:job_workflow_ref:{workflows}/drift.yml@refs/heads/main",
        )


def matrix_stacks(job: dict) -> list[str]:
    """The stacks a job's matrix runs, from `stack: [...]` or an `include:` list."""
    matrix = job["strategy"]["matrix"]
    return matrix["stack"] if "stack" in matrix else [entry["stack"] for entry in matrix["include"]]


def assert_preview_role_per_stack(job: dict) -> None:
    """Each stack lives in its own account: it previews with that account's ci-previewer role."""
    assert_role_per_stack(job, "preview-role", "AWS_PREVIEW_ROLE_ARN")


def assert_role_per_stack(job: dict, key: str, variable: str) -> None:
    """Each stack lives in its own account: the job assumes that account's role (matrix `key`, repository variable
    `<variable>_<STACK>`)."""
    roles = {entry["stack"]: entry[key] for entry in job["strategy"]["matrix"]["include"]}
    assert roles == {stack: f"${{{{ vars.{variable}_{stack.upper()} }}}}" for stack in STACKS}
    steps = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    assert [s["with"]["role-to-assume"] for s in steps] == [f"${{{{ matrix.{key} }}}}"]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_reusable_workflow_calls_name_files_of_this_repository(path):
    """A job-level `uses:` of this repository's workflow (`$/...`, the self-repository syntax zizmor asks for, or
    `./...`) must name a workflow file that exists, or the calling workflow never starts."""
    for name, job in _load(path)["jobs"].items():
        uses = job.get("uses", "")
        if uses.startswith(("$/", "./")):
            assert (REPO / uses[2:]).is_file(), (name, uses)
