"""docs/pipelines.md: its stack-file examples are valid config, and the commands it shows exist."""

from __future__ import annotations

import copy
import re

import yaml
from mlops_platform.infra.config import parse_settings

from tests.config.test_bad_config import GOOD
from tests.conftest import REPO

DOC = (REPO / "docs" / "pipelines.md").read_text()


def _yaml_blocks(marker: str) -> list[dict]:
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", DOC, re.S) if marker in b]


def test_the_pipeline_and_endpoint_examples_are_a_valid_stack_config():
    pipelines, _ = _yaml_blocks("mlops-platform:pipelines:")
    [endpoints] = _yaml_blocks("mlops-platform:endpoints:")
    config = copy.deepcopy(GOOD)
    config.update(account="333333333333", region="us-east-1")
    config["registry"] = {"models": [{"name": "churn-model"}]}
    config["pipelines"] = pipelines["mlops-platform:pipelines"]
    config["endpoints"] = endpoints["mlops-platform:endpoints"]
    settings = parse_settings(config)
    [pipeline] = settings.pipelines
    assert (pipeline.training_storage, pipeline.bias.max_dppl) == ("ebs", 0.1)
    assert pipeline.retraining and pipeline.retraining.on_new_data and pipeline.retraining.on_drift
    [endpoint] = settings.endpoints
    assert endpoint.monitoring and endpoint.baseline_variant.name == "champion"


def test_the_feature_group_example_is_a_valid_stack_config():
    _, example = _yaml_blocks("mlops-platform:pipelines:")
    config = {**copy.deepcopy(GOOD), "registry": {"models": [{"name": "churn-features-model"}]}}
    config.update(features=example["mlops-platform:features"], pipelines=example["mlops-platform:pipelines"])
    [pipeline] = parse_settings(config).pipelines
    assert pipeline.feature_group == "churn-customer" and pipeline.target_column == "churned"


def test_the_scripts_and_commands_it_names_exist():
    for script in re.findall(r"scripts/(\w+\.py)", DOC):
        assert (REPO / "pipelines" / "train_evaluate_register" / "scripts" / script).is_file(), script
    assert "uv run mlops-platform pipelines render" in DOC
    for template in ("definition.ebs.template.json", "definition.instance-store.template.json",
                     "definition.assets.json"):  # fmt: skip
        assert (REPO / "pipelines" / "train_evaluate_register" / template).is_file()
