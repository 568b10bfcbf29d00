"""Train: a small neural network on the curated tabular data (SageMaker training job, script mode).

Trains a scikit-learn MLPClassifier one epoch at a time with `partial_fit`, writing a checkpoint after
every epoch to /opt/ml/checkpoints (synced to S3 by SageMaker), so a managed-spot interruption resumes
where it stopped instead of starting over. The final model goes to SM_MODEL_DIR as model.joblib.

`model_fn` and `predict_fn` make the same file the inference entry point of the scikit-learn serving
container: an endpoint answers each CSV row with the probability of the positive class (the score the
model-quality and model-bias monitors read, and Clarify's checks threshold at 0.5).
Runs locally too:

    python train.py --train curated/train --validation curated/validation --model-dir model/ \
        --checkpoint-dir ckpt/ --epochs 5
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import joblib
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

CHECKPOINT = "checkpoint.joblib"
MODEL = "model.joblib"


def read_split(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Label-first, header-less CSV files of one split -> (features, labels)."""
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in sorted(folder.glob("*.csv"))])
    return data[:, 1:], data[:, 0].astype(int)


def train(args: argparse.Namespace) -> Pipeline:
    x_train, y_train = read_split(args.train)
    x_val, y_val = read_split(args.validation)
    checkpoint = args.checkpoint_dir / CHECKPOINT
    if checkpoint.exists():
        state = joblib.load(checkpoint)
        scaler, net, first_epoch = state["scaler"], state["net"], state["epoch"] + 1
        print(f"resuming from checkpoint after epoch {state['epoch']}")
    else:
        scaler = StandardScaler().fit(x_train)
        net = MLPClassifier(
            hidden_layer_sizes=(args.hidden_units, args.hidden_units),
            learning_rate_init=args.learning_rate,
            random_state=args.seed,
        )
        first_epoch = 0
    classes = np.unique(y_train)
    x_scaled = scaler.transform(x_train)
    rng = np.random.default_rng(args.seed)
    for epoch in range(first_epoch, args.epochs):
        order = rng.permutation(len(x_scaled))
        net.partial_fit(x_scaled[order], y_train[order], classes=classes)
        auc = roc_auc_score(y_val, net.predict_proba(scaler.transform(x_val))[:, 1])
        # SageMaker parses this line into the `validation:auc` metric.
        print(f"epoch={epoch} validation:auc={auc:.6f}")
        args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        joblib.dump({"scaler": scaler, "net": net, "epoch": epoch}, checkpoint)
    return Pipeline([("scale", scaler), ("net", net)])


def model_fn(model_dir: str) -> Pipeline:
    """Inference entry point of the scikit-learn serving container."""
    return joblib.load(os.path.join(model_dir, MODEL))


def predict_fn(data: np.ndarray, model: Pipeline) -> np.ndarray:
    """Score of the positive class per row (the serving container writes it as one CSV column)."""
    return model.predict_proba(np.asarray(data, dtype=float))[:, 1]


def main(argv: list[str] | None = None) -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=Path(env("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")))
    parser.add_argument(
        "--validation", type=Path, default=Path(env("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation"))
    )
    parser.add_argument("--model-dir", type=Path, default=Path(env("SM_MODEL_DIR", "/opt/ml/model")))
    parser.add_argument("--checkpoint-dir", type=Path, default=Path("/opt/ml/checkpoints"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden-units", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    model = train(args)
    args.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.model_dir / MODEL)
    print(json.dumps({"model": str(args.model_dir / MODEL), "epochs": args.epochs}))


if __name__ == "__main__":
    main()
