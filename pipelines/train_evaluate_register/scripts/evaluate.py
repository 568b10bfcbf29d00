"""Evaluate: score the trained model on the held-out test split and write the evaluation report.

The report uses SageMaker's model-quality layout (`binary_classification_metrics.<metric>.value`), so
the pipeline's ConditionStep reads it through a PropertyFile and the model registry shows it as the
model package's metrics. It also writes the test predictions (`predictions.csv`: probability, prediction,
label, with a header), the dataset of the model-quality check. Runs in the scikit-learn processing
container or locally:

    python evaluate.py --model-dir model/ --test-dir curated/test --output-dir evaluation/ \
        --predictions-dir predictions/
"""

from __future__ import annotations

import argparse
import json
import math
import tarfile
from pathlib import Path

import joblib
import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

REPORT = "evaluation.json"
PREDICTIONS = "predictions.csv"
PREDICTION_COLUMNS = ("probability", "prediction", "label")
"""Header of the predictions file; the model-quality check names these columns."""
METRICS = ("auc", "accuracy", "precision", "recall", "f1")
"""Metrics in the report; the pipeline's threshold can apply to any of them."""


def build_report(y_true: np.ndarray, y_score: np.ndarray, cutoff: float = 0.5) -> dict:
    """The evaluation report: every metric of METRICS as {"value", "standard_deviation"}."""
    y_true = np.asarray(y_true).astype(int)
    y_score = np.asarray(y_score, dtype=float)
    if y_true.shape != y_score.shape or y_true.size == 0:
        raise ValueError("y_true and y_score must be non-empty and of the same length")
    y_pred = (y_score >= cutoff).astype(int)
    values = {
        "auc": roc_auc_score(y_true, y_score) if len(set(y_true)) == 2 else math.nan,
        "accuracy": accuracy_score(y_true, y_pred),
        "precision": precision_score(y_true, y_pred, zero_division=0),
        "recall": recall_score(y_true, y_pred, zero_division=0),
        "f1": f1_score(y_true, y_pred, zero_division=0),
    }
    return {
        "binary_classification_metrics": {
            name: {"value": round(float(values[name]), 6), "standard_deviation": "NaN"} for name in METRICS
        },
        "test_samples": int(y_true.size),
    }


def load_model(model_dir: Path):
    """The model from the training job's model.tar.gz (or an already extracted model.joblib)."""
    archive = model_dir / "model.tar.gz"
    if archive.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(model_dir, filter="data")
    return joblib.load(model_dir / "model.joblib")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--test-dir", type=Path, default=Path("/opt/ml/processing/test"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/evaluation"))
    parser.add_argument("--predictions-dir", type=Path, default=Path("/opt/ml/processing/predictions"))
    args = parser.parse_args(argv)

    model = load_model(args.model_dir)
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in sorted(args.test_dir.glob("*.csv"))])
    scores = model.predict_proba(data[:, 1:])[:, 1]
    report = build_report(data[:, 0], scores)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / REPORT).write_text(json.dumps(report, indent=2))
    args.predictions_dir.mkdir(parents=True, exist_ok=True)
    rows = np.column_stack([scores, (scores >= 0.5).astype(int), data[:, 0].astype(int)])
    np.savetxt(
        args.predictions_dir / PREDICTIONS,
        rows,
        delimiter=",",
        fmt=["%.6f", "%d", "%d"],
        header=",".join(PREDICTION_COLUMNS),
        comments="",
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
