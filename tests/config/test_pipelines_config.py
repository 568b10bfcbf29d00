"""The `pipelines` section: a team adds a pipeline by config; every bad value names the key and what is accepted."""

from __future__ import annotations

import copy

import pytest
from mlops_platform.components import sagemaker_catalog as catalog
from mlops_platform.infra.config import ConfigError, parse_settings
from mlops_platform.infra.config.pipelines import supports_volume_kms, training_storage

from tests.config.test_bad_config import GOOD

IMAGE = "012345678901.dkr.ecr.eu-west-1.amazonaws.com/mlops-platform-prod/training:v1.4.0"
PIPELINE = {
    "name": "churn",
    "model": "churn-model",
    "images": {"processing": IMAGE, "training": IMAGE},
    "threshold": 0.8,
    "bias": {"facet": "senior_citizen"},
}


def config_with(*pipelines: dict, models=("churn-model",)) -> dict:
    config = copy.deepcopy(GOOD)
    config["registry"] = {"models": [{"name": m} for m in models]}
    config["pipelines"] = list(pipelines)
    return config


def pipeline(**changes) -> dict:
    entry = copy.deepcopy(PIPELINE)
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


def error_of(config) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(config)
    return str(caught.value)


def test_a_minimal_entry_gets_secure_gpu_defaults():
    [entry] = parse_settings(config_with(PIPELINE)).pipelines
    assert (entry.kind.value, entry.training_instance_type, entry.processing_instance_type) == (
        "train-evaluate-register",
        "ml.g5.xlarge",
        "ml.m5.xlarge",
    )
    assert entry.gpu and entry.training_storage == "instance-store"
    assert (entry.metric.value, entry.schedule, entry.images.inference) == ("auc", None, None)
    assert (entry.bias.facet_values, entry.bias.max_dppl, entry.skip_drift_checks) == ([1], 0.2, False)
    assert entry.retraining is None  # event-driven starts are opt-in


def test_cpu_training_where_the_pipeline_does_not_ask_for_a_gpu():
    [entry] = parse_settings(config_with(pipeline(gpu=False))).pipelines
    assert (entry.training_instance_type, entry.training_storage) == ("ml.m5.xlarge", "ebs")
    [entry] = parse_settings(config_with(pipeline(gpu=False, training_instance_type="ml.c5.4xlarge"))).pipelines
    assert entry.training_instance_type == "ml.c5.4xlarge"


def test_every_current_training_type_is_accepted_with_its_storage_variant():
    types = catalog.training_instance_types()
    assert {"ml.g5.xlarge", "ml.g6e.2xlarge", "ml.p4d.24xlarge", "ml.p5.48xlarge", "ml.trn1.2xlarge"} <= types
    for instance_type in sorted(types):
        gpu = catalog.is_gpu(instance_type)
        [entry] = parse_settings(config_with(pipeline(gpu=gpu, training_instance_type=instance_type))).pipelines
        assert entry.training_storage == ("instance-store" if catalog.has_local_nvme(instance_type) else "ebs")
    assert (training_storage("ml.p3.2xlarge"), training_storage("ml.g5.xlarge")) == ("ebs", "instance-store")


def test_no_pipelines_by_default():
    assert parse_settings(GOOD).pipelines == []


def test_the_sdks_volume_kms_rule():
    """The sagemaker SDK's `instance_supports_kms` verdicts (sagemaker.core.common_utils), copied as cases."""
    assert supports_volume_kms("ml.p3.2xlarge") and supports_volume_kms("ml.m5.xlarge")
    assert supports_volume_kms("ml.c5.4xlarge") and supports_volume_kms("ml.p2.xlarge")
    for local in ("ml.g5.xlarge", "ml.g4dn.xlarge", "ml.p4d.24xlarge", "ml.p3dn.24xlarge", "ml.r5d.large",
                  "ml.g6.xlarge", "ml.g7e.2xlarge", "ml.p5.48xlarge", "ml.p6-b200.48xlarge", "ml.trn1.2xlarge",
                  "ml.trn2.48xlarge"):  # fmt: skip
        assert not supports_volume_kms(local), local


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            pipeline(training_instance_type="ml.m5.xlarge"),
            "pipeline 'churn': training_instance_type 'ml.m5.xlarge' has no GPU, but gpu is true; choose a G or P "
            "type (e.g. ml.g5.xlarge, ml.p3.2xlarge) or set gpu: false",
        ),
        (
            pipeline(training_instance_type="ml.p3.3xlarge"),
            "training_instance_type = 'ml.p3.3xlarge': not a SageMaker training instance type (botocore's "
            "TrainingInstanceType); p3 sizes: ml.p3.16xlarge, ml.p3.2xlarge, ml.p3.8xlarge",
        ),
        (pipeline(bias=None), "mlops-platform:pipelines.0.bias: required key is missing"),
        (
            pipeline(bias={"facet": "age", "max_dppl": 0}),
            "pipelines.0.bias.max_dppl = 0: Input should be greater than 0",
        ),
        (pipeline(bias={"facet": "age", "facet_values": []}), "pipelines.0.bias.facet_values = []: List should have"),
        (pipeline(retraining={}), "retraining sets neither on_new_data nor on_drift to true"),
        (
            pipeline(retraining={"on_new_data": True, "batch_marker_suffix": "a/b"}),
            "pipelines.0.retraining.batch_marker_suffix = 'a/b': String should match pattern",
        ),
        (
            pipeline(processing_instance_type="ml.g4dn.xlarge"),
            "processing_instance_type = 'ml.g4dn.xlarge': has local NVMe storage only",
        ),
        (
            pipeline(images={"processing": IMAGE, "training": "docker.io/library/python:3.12"}),
            "mlops-platform:pipelines.0.images.training = 'docker.io/library/python:3.12': not an ECR image URI",
        ),
        (pipeline(images={"processing": IMAGE}), "mlops-platform:pipelines.0.images.training: required key is missing"),
        (pipeline(threshold=1.5), "pipelines.0.threshold = 1.5: Input should be less than or equal to 1"),
        (pipeline(threshold=None), "mlops-platform:pipelines.0.threshold: required key is missing"),
        (pipeline(metric="rmse"), "mlops-platform:pipelines.0.metric = 'rmse': Input should be 'auc', 'accuracy'"),
        (pipeline(kind="train-only"), "pipelines.0.kind = 'train-only': Input should be 'train-evaluate-register'"),
        (
            pipeline(schedule="cron(0 3 * * *)"),
            "pipelines.0.schedule = 'cron(0 3 * * *)': not an EventBridge Scheduler expression; expected rate(",
        ),
        (
            pipeline(schedule="cron(0 3 * * MON *)"),
            "pipelines.0.schedule = 'cron(0 3 * * MON *)': cron needs '?' in day-of-month or day-of-week",
        ),
        (pipeline(schedule="rate(0 days)"), "pipelines.0.schedule = 'rate(0 days)': not an EventBridge Scheduler"),
        (pipeline(schedule="rate(1 days)"), "pipelines.0.schedule = 'rate(1 days)': not an EventBridge Scheduler"),
        (pipeline(schedule_timezone="Europe/Berlin"), "pipeline 'churn' sets schedule_timezone without a schedule"),
        (pipeline(name="Churn_Model"), "mlops-platform:pipelines.0.name = 'Churn_Model': String should match pattern"),
        (pipeline(retries=3), "mlops-platform:pipelines.0.retries: unknown key; accepted keys here: bias, data_val"),
    ],
)
def test_bad_entries_name_the_key_and_what_is_accepted(entry, expected):
    assert expected in error_of(config_with(entry))


def test_names_are_unique():
    message = error_of(config_with(PIPELINE, pipeline(threshold=0.9)))
    assert "mlops-platform:pipelines" in message and "pipeline names must be unique; repeated: churn" in message


def test_model_must_be_a_registry_model():
    message = error_of(config_with(pipeline(model="fraud-model")))
    assert "pipelines[0].model 'fraud-model' is not a registry.models name; expected one of: churn-model" in message


def test_role_names_must_fit_iam():
    message = error_of(config_with(pipeline(name="a" * 30)))
    assert "pipelines[0].name" in message and "longer than IAM's 64 characters; use at most 26 characters" in message


def test_valid_schedules_pass():
    for expression in ("rate(1 day)", "rate(12 hours)", "cron(0 3 ? * MON *)", "cron(15 2 1 * ? *)"):
        [entry] = parse_settings(config_with(pipeline(schedule=expression))).pipelines
        assert entry.schedule == expression


CHURN_GROUP = {
    "name": "churn-customer",
    "stage": "production",
    "table_format": "Glue",
    "record_identifier": "customer_id",
    "event_time": "event_time",
    "features": [
        {"name": "customer_id", "type": "String"},
        {"name": "event_time", "type": "String"},
        {"name": "tenure_months", "type": "Integral"},
        {"name": "senior_citizen", "type": "Integral"},
        {"name": "segment", "type": "String"},
        {"name": "label", "type": "Integral"},
    ],
}


def with_group(*pipelines: dict, **group_changes) -> dict:
    return {**config_with(*pipelines), "features": [{**CHURN_GROUP, **group_changes}]}


def test_a_pipeline_reads_a_configured_feature_group():
    [entry] = parse_settings(with_group(pipeline(feature_group="churn-customer"))).pipelines
    assert entry.feature_group == "churn-customer"
    assert parse_settings(config_with(PIPELINE)).pipelines[0].feature_group is None  # CSV under the raw prefix


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            pipeline(feature_group="churn-orders"),
            "pipelines[0].feature_group 'churn-orders' is not a features name; expected one of: churn-customer",
        ),
        (
            pipeline(feature_group="churn-customer", target_column="churned"),
            "pipelines[0].target_column 'churned' is not a numeric feature of feature group 'churn-customer'",
        ),
        (
            pipeline(feature_group="churn-customer", target_column="customer_id"),
            "expected one of: tenure_months, senior_citizen, label",
        ),
        (
            pipeline(feature_group="churn-customer", bias={"facet": "segment"}),
            "pipelines[0].bias.facet 'segment' is not a numeric feature of feature group 'churn-customer'",
        ),
        (
            pipeline(feature_group="churn-customer", retraining={"on_new_data": True}),
            "reads feature group 'churn-customer', but retraining.on_new_data watches the raw prefix",
        ),
    ],
)
def test_a_feature_group_input_must_exist_and_hold_the_label_and_facet(entry, expected):
    assert expected in error_of(with_group(entry))


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ({"stage": "sandbox"}, "'churn-customer' is a sandbox group in the Glue table format"),
        ({"table_format": "Iceberg"}, "'churn-customer' is a production group in the Iceberg table format"),
    ],
)
def test_pipelines_train_only_on_production_groups_in_the_glue_format(group, expected):
    """Sandbox offline stores are writable by data scientists, and an Iceberg table's state is in its metadata."""
    message = error_of(with_group(pipeline(feature_group="churn-customer"), **group))
    assert expected in message and "set stage: production and table_format: Glue" in message


def test_pipelines_of_one_model_read_one_input():
    """Drift checks compare a version with the latest approved one's baselines column by column."""
    message = error_of(with_group(PIPELINE, pipeline(name="churn-fs", feature_group="churn-customer")))
    assert "pipelines 'churn' and 'churn-fs' register into model 'churn-model' from different inputs" in message
    group = "churn-customer"
    both = with_group(pipeline(feature_group=group), pipeline(name="churn-2", feature_group=group))
    assert len(parse_settings(both).pipelines) == 2
