"""The pipeline's input reader (scripts/input_data.py) on a feature group's offline store, laid out the way
SageMaker Feature Store writes a Glue-format store, and the pipeline's scripts trained from it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlops_platform.pipelines.template import KINDS

SCRIPTS = KINDS["train-evaluate-register"].scripts_path
RESOLVED = "features/sandbox/123456789012/sagemaker/us-east-1/offline-store/mlops-platform-dev-churn-1767225600/data"
"""A group's ResolvedOutputS3Uri below the bucket, as the processing job's input folder mirrors it."""


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"inputs_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reader = _script("input_data")


def _rows(records: list[dict], write_time: str, *, deleted: bool = False, invoked: str | None = None) -> pd.DataFrame:
    """Rows as Feature Store appends them: the features plus its own three columns."""
    frame = pd.DataFrame(records)
    frame["write_time"] = pd.Timestamp(write_time, tz="UTC")
    frame["api_invocation_time"] = pd.Timestamp(invoked or write_time, tz="UTC")
    frame["is_deleted"] = deleted
    return frame


def _write(root: Path, partition: str, name: str, frame: pd.DataFrame) -> None:
    folder = root / RESOLVED / partition
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / f"{name}.parquet", index=False)


def _store(root: Path) -> Path:
    """Customer c1 updated twice (the later event time wins), c2 put twice with the same event time (the later
    write wins), c3 deleted after it was put, c4 put once."""
    hour = "year=2026/month=11/day=30/hour=10"
    _write(root, hour, "20261130T100000Z_a", _rows([
        {"customer_id": "c1", "event_time": "2026-11-30T10:00:00Z", "tenure_months": 1, "monthly_spend": 10.0},
        {"customer_id": "c2", "event_time": "2026-11-30T10:05:00Z", "tenure_months": 5, "monthly_spend": 50.0},
        {"customer_id": "c3", "event_time": "2026-11-30T10:06:00Z", "tenure_months": 7, "monthly_spend": 70.0},
    ], "2026-11-30T10:10:00Z"))  # fmt: skip
    _write(root, "year=2026/month=12/day=01/hour=08", "20261201T080000Z_b", _rows([
        {"customer_id": "c1", "event_time": "2026-12-01T08:00:00Z", "tenure_months": 2, "monthly_spend": 12.0},
        {"customer_id": "c2", "event_time": "2026-11-30T10:05:00Z", "tenure_months": 6, "monthly_spend": 55.0},
        {"customer_id": "c4", "event_time": "2026-12-01T08:01:00Z", "tenure_months": 9, "monthly_spend": 90.0},
    ], "2026-12-01T08:10:00Z"))  # fmt: skip
    _write(root, "year=2026/month=12/day=01/hour=09", "20261201T090000Z_c", _rows([
        {"customer_id": "c3", "event_time": "2026-12-01T09:00:00Z", "tenure_months": 7, "monthly_spend": 70.0},
    ], "2026-12-01T09:10:00Z", deleted=True))  # fmt: skip
    return root / RESOLVED


def test_the_offline_store_reads_as_the_groups_current_records_without_feature_store_columns(tmp_path):
    frame = reader.load_offline_store(_store(tmp_path), "customer_id", "event_time")
    assert sorted(frame.columns) == ["monthly_spend", "tenure_months"]  # identifier, event time, FS columns gone
    # c1's latest event, c2's latest write of the same event, c4; c3 was deleted last.
    assert sorted(map(tuple, frame[["tenure_months", "monthly_spend"]].to_numpy().tolist())) == [
        (2, 12.0),
        (6, 55.0),
        (9, 90.0),
    ]


def test_rows_delivered_twice_change_nothing(tmp_path):
    store = _store(tmp_path)
    before = reader.load_offline_store(store, "customer_id", "event_time")
    every = pd.concat(pd.read_parquet(f) for f in sorted(store.rglob("*.parquet")))
    _write(tmp_path, "year=2026/month=12/day=01/hour=10", "again", every)  # the same rows again, in another file
    after = reader.load_offline_store(store, "customer_id", "event_time")
    pd.testing.assert_frame_equal(
        before.sort_values("tenure_months").reset_index(drop=True),
        after.sort_values("tenure_months").reset_index(drop=True),
    )


def test_versions_with_the_same_event_and_write_time_are_ordered_by_their_api_call(tmp_path):
    """Feature Store's order of versions: event time, then API invocation time, then write time. A put and a
    later put, or a put and a later DeleteRecord, of one event time written in one batch: the later call wins."""
    event, written = "2026-12-01T08:00:00Z", "2026-12-01T08:10:00Z"

    def version(customer: str, tenure: int, minute: int, *, deleted: bool = False) -> pd.DataFrame:
        record = {"customer_id": customer, "event_time": event, "tenure_months": tenure}
        return _rows([record], written, invoked=f"2026-12-01T08:0{minute}:00Z", deleted=deleted)

    batch = [version("c1", 2, 2), version("c1", 1, 1), version("c2", 5, 3, deleted=True), version("c2", 5, 1)]
    _write(tmp_path, "p", "batch", pd.concat(batch))
    frame = reader.load_offline_store(tmp_path / RESOLVED, "customer_id", "event_time")
    assert frame.to_dict("records") == [{"tenure_months": 2}]  # c1's later put; c2 deleted by the later call


def test_unix_second_event_times_order_records_too(tmp_path):
    """A Fractional event time (store-weekly's week_start) orders numerically, not as text."""
    _write(tmp_path, "p", "a", _rows([{"store_id": 7, "week_start": 9.0e8, "units_sold": 1}], "2026-12-01T00:00:00Z"))
    _write(tmp_path, "p", "b", _rows([{"store_id": 7, "week_start": 1.7e9, "units_sold": 2}], "2026-11-01T00:00:00Z"))
    frame = reader.load_offline_store(tmp_path / RESOLVED, "store_id", "week_start")
    assert frame.to_dict("records") == [{"units_sold": 2}]


def test_iceberg_delete_files_stop_the_read_instead_of_training_on_removed_rows(tmp_path):
    store = _store(tmp_path)
    _write(tmp_path, "deletes", "00001-deletes", pd.DataFrame({"file_path": ["s3://x/a.parquet"], "pos": [0]}))
    with pytest.raises(SystemExit, match=r"Iceberg delete file.*DeleteRecord"):
        reader.load_offline_store(store, "customer_id", "event_time")


def test_an_empty_offline_store_names_the_folder_and_the_write_delay(tmp_path):
    with pytest.raises(SystemExit, match=r"no \.parquet files under .*within 15 minutes"):
        reader.load_offline_store(tmp_path, "customer_id", "event_time")


def test_offline_store_needs_the_groups_identifier_and_event_time():
    parser = __import__("argparse").ArgumentParser()
    reader.add_input_arguments(parser)
    with pytest.raises(SystemExit, match="needs --record-identifier and --event-time"):
        reader.load_input(parser.parse_args(["--offline-store"]))


def _churn_records(seed: int, rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure, spend = rng.normal(size=rows), rng.normal(size=rows)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(rows)],
            "event_time": "2026-12-01T00:00:00Z",
            "tenure_months": tenure,
            "monthly_spend": spend,
            "senior_citizen": rng.integers(0, 2, size=rows),
            "churned": ((tenure - spend + rng.normal(scale=0.3, size=rows)) > 0).astype(int),
        }
    )


def test_validate_and_preprocess_run_from_the_offline_store_as_the_pipeline_starts_them(tmp_path, capsys):
    """The steps' arguments as the stack fills them for a feature-group pipeline: ValidateData reads the store
    and writes the snapshot it checked, Preprocess reads that snapshot; the profile and the curated splits hold
    the group's features and label, never the record identifier or event time."""
    records = _churn_records(0)
    _write(tmp_path, "year=2026/month=12/day=01/hour=00", "part", _rows(records.to_dict("records"), "2026-12-01"))
    source = ["--input-dir", str(tmp_path / RESOLVED), "--offline-store", "--record-identifier", "customer_id",
              "--event-time", "event_time"]  # fmt: skip
    _script("validate").main([*source, "--output-dir", str(tmp_path / "profile"), "--target", "churned",
                              "--snapshot-dir", str(tmp_path / "snapshot")])  # fmt: skip
    profile = json.loads((tmp_path / "profile" / "profile.json").read_text())
    assert set(profile["columns"]) == {"tenure_months", "monthly_spend", "senior_citizen", "churned"}
    # The store changes after the check (a new record lands): the execution trains on what was checked.
    _write(tmp_path, "year=2026/month=12/day=01/hour=01", "late", _rows([{**records.iloc[0].to_dict(),
           "customer_id": "late", "tenure_months": 99.0}], "2026-12-01T01:00:00Z"))  # fmt: skip
    _script("preprocess").main(["--input-dir", str(tmp_path / "snapshot"), "--output-dir", str(tmp_path / "cur"),
                                "--target", "churned"])  # fmt: skip
    train = pd.read_csv(tmp_path / "cur" / "train" / "train.csv", header=None)
    labelled = pd.read_csv(tmp_path / "cur" / "labelled" / "labelled.csv")
    assert list(labelled.columns) == ["churned", "tenure_months", "monthly_spend", "senior_citizen"]
    assert train.shape[1] == 4 and len(train) == round(len(records) * 0.7)  # not the late record
