"""Preprocess: input data -> curated train / validation / test splits (SageMaker Processing job).

Reads the input (every *.csv under the input folder, or a feature group's offline store: see
input_data.py), keeps numeric feature columns, fills their gaps with the training median, and writes
three stratified splits with the label first and no header (the layout train.py and evaluate.py read).
Two more outputs feed the pipeline's checks:

- `baseline/`: the training features without label or header, the shape of an endpoint request (the
  data-quality baseline that Model Monitor later compares captured requests with);
- `labelled/`: the test split with a header row (label first), for the Clarify bias and explainability
  checks, which name the label and the facet column.

Runs in the scikit-learn processing container or locally:

    python preprocess.py --input-dir raw/ --output-dir curated/ --target label
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

# input_data.py: the job's `lib` input in SageMaker, beside this file when run locally.
sys.path[:0] = [str(Path(__file__).resolve().parent), "/opt/ml/processing/input/lib"]
from input_data import add_input_arguments, load_input  # noqa: E402

SPLITS = ("train", "validation", "test")


def curate(frame: pd.DataFrame, target: str, seed: int = 42) -> dict[str, pd.DataFrame]:
    """Split into train/validation/test (70/15/15, stratified); label first, numeric features only."""
    if target not in frame.columns:
        raise SystemExit(f"target column {target!r} not in the raw data; columns: {', '.join(frame.columns)}")
    frame = frame.dropna(subset=[target])
    features = [c for c in frame.select_dtypes("number").columns if c != target]
    if not features:
        raise SystemExit("the raw data has no numeric feature columns")
    labels = frame[target].astype(int)
    data = pd.concat([labels.rename(target), frame[features]], axis=1)
    train, rest = train_test_split(data, test_size=0.3, random_state=seed, stratify=labels)
    validation, test = train_test_split(rest, test_size=0.5, random_state=seed, stratify=rest[target])
    medians = train[features].median()
    return {name: split.fillna(medians) for name, split in zip(SPLITS, (train, validation, test), strict=True)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_input_arguments(parser)
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing"))
    parser.add_argument("--target", default="label")
    args = parser.parse_args(argv)

    splits = curate(load_input(args), args.target)
    for name, split in splits.items():
        folder = args.output_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        split.to_csv(folder / f"{name}.csv", header=False, index=False)
    write_check_datasets(splits, args.output_dir)
    print(json.dumps({name: len(split) for name, split in splits.items()}))


def write_check_datasets(splits: dict[str, pd.DataFrame], output_dir: Path) -> None:
    """The data-quality baseline (training features, no label, no header) and the labelled test split."""
    (output_dir / "baseline").mkdir(parents=True, exist_ok=True)
    splits["train"].iloc[:, 1:].to_csv(output_dir / "baseline" / "baseline.csv", header=False, index=False)
    (output_dir / "labelled").mkdir(parents=True, exist_ok=True)
    splits["test"].to_csv(output_dir / "labelled" / "labelled.csv", header=True, index=False)


if __name__ == "__main__":
    main()
