"""Model Monitor for an endpoint that speaks: data-quality, model-quality and model-bias schedules baselined
from the approved model package, CloudWatch alarms on their violation metrics, and an EventBridge rule on
monitoring executions that end with violations, all to the alert topic.

The baselines are the ones the training pipeline registered with the package (`DriftCheckBaselines`) and
filed under `s3://<artifacts>/models/baselines/<model package ARN>/` (its PublishBaselines step):
`data-quality/statistics.json`, `data-quality/constraints.json`, `model-quality/constraints.json`,
`model-bias/constraints.json` and `model-bias/config.json` (the Clarify analysis configuration). An endpoint
that serves a package version derives these keys from the version's ARN, so no look-up runs at deploy
time and the offline preview shows them. Nothing here imports the sagemaker SDK.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

BASELINE_FILES = {
    "data_quality_statistics": "data-quality/statistics.json",
    "data_quality_constraints": "data-quality/constraints.json",
    "model_quality_constraints": "model-quality/constraints.json",
    "model_bias_constraints": "model-bias/constraints.json",
    "model_bias_config": "model-bias/config.json",
}
"""Published baseline files below a package's baseline prefix (see `baseline_prefix`)."""

MONITORING_TYPES = ("DataQuality", "ModelQuality", "ModelBias")
"""The schedules a `ModelMonitors` creates, in order."""


def baseline_prefix(artifacts_bucket: pulumi.Input[str], model_package_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """s3://<artifacts>/models/baselines/<model package ARN>: where the pipeline filed that version's baselines."""
    return pulumi.Output.concat("s3://", artifacts_bucket, "/models/baselines/", model_package_arn)


def bias_constraints_document(
    *,
    label: str,
    facet: str,
    facet_values: Sequence[int | float | str],
    max_class_imbalance: float,
    max_label_imbalance: float,
    max_dppl: float,
) -> dict[str, Any]:
    """Bias limits as a Clarify constraints file (the layout of its analysis.json): a bias check or monitor
    reports a violation when a metric lies farther from 0 than its value here (Clarify's bias drift rule)."""
    group = ",".join(str(v) for v in facet_values)

    def section(metrics: Mapping[str, tuple[str, float]]) -> dict[str, Any]:
        return {
            "label": label,
            "label_value_or_threshold": "1",
            "facets": {
                facet: [
                    {
                        "value_or_threshold": group,
                        "metrics": [
                            {"name": name, "description": description, "value": limit}
                            for name, (description, limit) in metrics.items()
                        ],
                    }
                ]
            },
        }

    return {
        "version": "1.0",
        "pre_training_bias_metrics": section(
            {"CI": ("Class Imbalance (CI)", max_class_imbalance),
             "DPL": ("Difference in Positive Proportions in Labels (DPL)", max_label_imbalance)}
        ),
        "post_training_bias_metrics": section(
            {"DPPL": ("Difference in Positive Proportions in Predicted Labels (DPPL)", max_dppl)}
        ),
    }  # fmt: skip
