"""The pipeline's input data: CSV files under the raw prefix, or a feature group's offline store.

Imported by validate.py and preprocess.py, which run in separate processing jobs; each job receives this
file as its `lib` input (/opt/ml/processing/input/lib), and locally it sits beside them.

A feature group's offline store (`--offline-store`) in the Glue table format is Parquet under the group's
`ResolvedOutputS3Uri` (`.../offline-store/<group>-<created>/data/year=/month=/day=/hour=/`), which Feature
Store only appends to: one row per PutRecord, a row with `is_deleted` true per DeleteRecord, each with its
own `write_time`, `api_invocation_time` and `is_deleted` columns. The training data is the group's current
state: the latest version of each record, ordered as Feature Store's dataset builder orders versions (event
time, then API invocation time, then write time), without records whose latest version is a deletion,
without Feature Store's columns, and without the record identifier and event time, which identify a row but
are not features a model should learn from.

An Iceberg table's current state is only known through its metadata (compaction leaves superseded files,
row-level deletes write delete files), which a table reader (Athena, pyiceberg) applies and a file walk
cannot: the platform feeds only Glue-format groups to pipelines. Iceberg position-delete files found here
stop the read, naming the file, rather than train on removed rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

OFFLINE_STORE_COLUMNS = ("write_time", "api_invocation_time", "is_deleted")
"""Columns Feature Store adds to every row of the offline store."""
ICEBERG_DELETE_COLUMNS = {"file_path", "pos"}
"""Columns of an Iceberg position-delete file."""


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """The input options shared by validate.py and preprocess.py."""
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/input"))
    parser.add_argument(
        "--offline-store",
        action="store_true",
        help="the input is a feature group's offline store (Parquet), not CSV files",
    )
    parser.add_argument("--record-identifier", help="the group's record identifier feature (with --offline-store)")
    parser.add_argument("--event-time", help="the group's event time feature (with --offline-store)")


def load_input(args: argparse.Namespace) -> pd.DataFrame:
    """The input data as one frame, from parsed `add_input_arguments` options."""
    if not args.offline_store:
        return load_csv(args.input_dir)
    if not (args.record_identifier and args.event_time):
        raise SystemExit("--offline-store needs --record-identifier and --event-time")
    return load_offline_store(args.input_dir, args.record_identifier, args.event_time)


def load_csv(input_dir: Path) -> pd.DataFrame:
    """Concatenate every CSV file under `input_dir`."""
    files = sorted(input_dir.rglob("*.csv"))
    if not files:
        raise SystemExit(f"no .csv files under {input_dir}")
    return pd.concat((pd.read_csv(f) for f in files), ignore_index=True)


def load_offline_store(input_dir: Path, record_identifier: str, event_time: str) -> pd.DataFrame:
    """The current state of a feature group from its offline-store files under `input_dir`."""
    files = sorted(input_dir.rglob("*.parquet"))
    if not files:
        raise SystemExit(
            f"no .parquet files under {input_dir}: the feature group has no records in its offline store yet "
            "(Feature Store writes them there within 15 minutes of PutRecord)"
        )
    frames = []
    for file in files:
        frame = _read_parquet(file)
        if record_identifier not in frame.columns:
            if set(frame.columns) >= ICEBERG_DELETE_COLUMNS:
                raise SystemExit(
                    f"{file} is an Iceberg delete file (a row-level DELETE, UPDATE or MERGE on the offline store), "
                    "which this reader cannot apply; delete records with Feature Store's DeleteRecord instead, or "
                    "rewrite the table (OPTIMIZE ... REWRITE DATA, then VACUUM) before training"
                )
            raise SystemExit(f"{file} has no {record_identifier!r} column: not a file of this group's offline store")
        frames.append(frame)
    rows = pd.concat(frames, ignore_index=True)
    missing = [c for c in (event_time, *OFFLINE_STORE_COLUMNS) if c not in rows.columns]
    if missing:
        raise SystemExit(f"the offline-store files lack the columns {', '.join(missing)}")

    # Feature Store's own order of a record's versions (its dataset builder's deduplication): event time, then
    # when the service received the call, then when it was written; a DeleteRecord is a version like the others.
    keys = {"_event": event_time, "_invoked": "api_invocation_time", "_written": "write_time"}
    order = rows.assign(**{key: _as_time(rows[column]) for key, column in keys.items()})
    latest = order.sort_values(list(keys), kind="stable").drop_duplicates(record_identifier, keep="last")
    current = latest[~latest["is_deleted"].astype(str).str.lower().isin(("true", "1"))]
    dropped = [*OFFLINE_STORE_COLUMNS, record_identifier, event_time, *keys]
    return current.drop(columns=dropped).reset_index(drop=True)


def _read_parquet(file: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(file)
    except ImportError as error:  # pandas reads Parquet through pyarrow (or fastparquet)
        raise SystemExit(
            f"reading the offline store needs pyarrow in the processing image ({error}); "
            "install it, e.g. pip install pyarrow"
        ) from error


def _as_time(column: pd.Series) -> pd.Series:
    """Event and write times as UTC timestamps: Fractional features are Unix seconds, String ones ISO-8601."""
    if pd.api.types.is_numeric_dtype(column):
        return pd.to_datetime(column, unit="s", utc=True)
    if pd.api.types.is_datetime64_any_dtype(column):
        return pd.to_datetime(column, utc=True)
    try:
        return pd.to_datetime(column, utc=True, format="ISO8601")  # mixed precisions; pandas >= 2.0
    except ValueError:  # older pandas does not know the format name, and parses ISO-8601 by inference
        return pd.to_datetime(column, utc=True)
