"""Validate: compare the input data's schema and statistics with the profile of the last registered execution.

Fails the pipeline (exit code 1, the violations on stderr) before anything is trained when, against the
previous profile, a column is missing or new, a column changed between numeric and text, the label is
missing, a numeric column's mean moved by more than `--max-mean-shift` of its previous standard
deviations, or a column's share of missing values grew by more than `--max-missing-increase`. Without a
previous profile (the first execution) it only checks that the label exists. Writes the new profile either
way; PublishBaselines makes it the next execution's reference once a model is registered. It also writes
the input exactly as it checked it (`--snapshot-dir`), which Preprocess reads: the source (new CSV batches, a
feature group's offline store) may change while the execution runs.

The previous profile is read directly (a local path, or an s3:// URI through boto3 with the job's role):
a processing input would fail the first execution, when there is no profile yet. Runs in the
scikit-learn processing container or locally:

    python validate.py --input-dir raw/ --previous-profile previous/profile.json --output-dir profile/ \
        --snapshot-dir snapshot/ --target label
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

# input_data.py: the job's `lib` input in SageMaker, beside this file when run locally.
sys.path[:0] = [str(Path(__file__).resolve().parent), "/opt/ml/processing/input/lib"]
from input_data import add_input_arguments, load_input  # noqa: E402

PROFILE = "profile.json"
SNAPSHOT = "input.csv"
"""The input as validated: Preprocess reads this file, never the changing source."""


def profile(frame: pd.DataFrame, target: str) -> dict:
    """Schema and statistics of the raw data: per column its kind, missing share, and mean/std if numeric."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        numeric = pd.api.types.is_numeric_dtype(series)
        column = {"kind": "numeric" if numeric else "text", "missing_fraction": float(series.isna().mean())}
        if numeric:
            column["mean"] = float(series.mean()) if series.notna().any() else math.nan
            column["std"] = float(series.std()) if series.notna().sum() > 1 else 0.0
        columns[str(name)] = column
    return {"version": 1, "target": target, "rows": len(frame), "columns": columns}


def violations(previous: dict | None, current: dict, max_mean_shift: float, max_missing_increase: float) -> list[str]:
    """What changed beyond the limits between two profiles (empty: the data may be used)."""
    found = []
    if current["target"] not in current["columns"]:
        found.append(f"label column {current['target']!r} is missing")
    if previous is None:
        return found
    before, after = previous["columns"], current["columns"]
    found += [f"column {name!r} is missing" for name in before if name not in after]
    found += [f"column {name!r} is new" for name in after if name not in before]
    for name in sorted(set(before) & set(after)):
        old, new = before[name], after[name]
        if old["kind"] != new["kind"]:
            found.append(f"column {name!r} changed from {old['kind']} to {new['kind']}")
            continue
        if new["missing_fraction"] - old["missing_fraction"] > max_missing_increase:
            found.append(
                f"column {name!r}: missing values rose from {old['missing_fraction']:.1%} to "
                f"{new['missing_fraction']:.1%} (limit +{max_missing_increase:.0%})"
            )
        if old["kind"] == "numeric" and name != current["target"]:
            scale = old["std"] if old["std"] > 0 else 1.0
            shift = abs(new["mean"] - old["mean"]) / scale
            if shift > max_mean_shift:
                found.append(
                    f"column {name!r}: mean moved from {old['mean']:.4g} to {new['mean']:.4g}, "
                    f"{shift:.1f} standard deviations (limit {max_mean_shift})"
                )
    return found


def read_previous(location: str) -> dict | None:
    """The previous profile at a local path or s3:// URI, or None before the first registered execution."""
    if not location.startswith("s3://"):
        path = Path(location)
        return json.loads(path.read_text()) if path.is_file() else None
    import boto3  # in the processing container; only needed for S3

    bucket, _, key = location.removeprefix("s3://").partition("/")
    client = boto3.client("s3")
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_input_arguments(parser)
    parser.add_argument("--previous-profile", default="", help="local path or s3:// URI of the previous profile")
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/profile"))
    parser.add_argument(
        "--snapshot-dir",
        type=Path,
        default=Path("/opt/ml/processing/snapshot"),
        help="where the checked input is written (input.csv), which Preprocess then reads",
    )
    parser.add_argument("--target", default="label")
    parser.add_argument("--max-mean-shift", type=float, default=3.0)
    parser.add_argument("--max-missing-increase", type=float, default=0.1)
    args = parser.parse_args(argv)

    data = load_input(args)
    args.snapshot_dir.mkdir(parents=True, exist_ok=True)
    data.to_csv(args.snapshot_dir / SNAPSHOT, index=False)
    current = profile(data, args.target)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / PROFILE).write_text(json.dumps(current, indent=2))
    found = violations(
        read_previous(args.previous_profile) if args.previous_profile else None,
        current,
        args.max_mean_shift,
        args.max_missing_increase,
    )
    if found:
        print("data validation failed:\n" + "\n".join(f"- {v}" for v in found), file=sys.stderr)
        raise SystemExit(1)
    print(json.dumps({"rows": current["rows"], "columns": len(current["columns"]), "violations": 0}))


if __name__ == "__main__":
    main()
