"""PublishBaselines: file the registered package's drift baselines where its monitors look for them.

Each input folder `baselines/<check>/<kind>/` holds one file the checks produced (statistics, constraints,
or the Clarify monitoring configuration); it is copied to `<check>/<kind>.json` in the output, which the
pipeline uploads under `s3://<artifacts>/models/baselines/<model package ARN>/`. An endpoint serving that
package version derives the same keys from its ARN. The Clarify monitoring configuration gets the feature
names (`headers`, from the labelled split's header without the label): captured requests carry no header,
so the model-bias monitor finds the facet column by position. The data profile of this execution becomes
the next execution's reference. Runs in the processing container or locally:

    python publish_baselines.py --baselines-dir in/ --published-dir out/ --labelled-dir curated/labelled \
        --profile-dir profile/ --latest-profile-dir latest/ \
        --model-package-arn arn:aws:sagemaker:...:model-package/churn/3
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def publish(baselines_dir: Path, published_dir: Path) -> dict[str, str]:
    """Copy each `<check>/<kind>/<file>` to `<check>/<kind>.json`; returns published name -> source name."""
    published = {}
    for folder in sorted(p for p in baselines_dir.glob("*/*") if p.is_dir()):
        files = sorted(f for f in folder.rglob("*") if f.is_file())
        if len(files) != 1:
            raise SystemExit(f"{folder} holds {len(files)} files; expected exactly one baseline file")
        target = published_dir / folder.parent.name / f"{folder.name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files[0], target)
        published[f"{folder.parent.name}/{folder.name}.json"] = files[0].name
    return published


BIAS_CONFIG = "model-bias/config.json"


def add_feature_headers(config_path: Path, labelled_dir: Path) -> list[str]:
    """Write the request's column names (the labelled split's header without the label) into a Clarify config."""
    config = json.loads(config_path.read_text())
    files = sorted(labelled_dir.glob("*.csv"))
    if not files:
        raise SystemExit(f"no labelled split under {labelled_dir}")
    header = files[0].read_text().splitlines()[0].split(",")
    config["headers"] = [column for column in header if column != config.get("label")]
    config_path.write_text(json.dumps(config, indent=2))
    return config["headers"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baselines-dir", type=Path, default=Path("/opt/ml/processing/baselines"))
    parser.add_argument("--published-dir", type=Path, default=Path("/opt/ml/processing/published"))
    parser.add_argument("--labelled-dir", type=Path, default=Path("/opt/ml/processing/labelled"))
    parser.add_argument("--profile-dir", type=Path, default=Path("/opt/ml/processing/profile"))
    parser.add_argument("--latest-profile-dir", type=Path, default=Path("/opt/ml/processing/latest-profile"))
    parser.add_argument("--model-package-arn", required=True)
    args = parser.parse_args(argv)

    published = publish(args.baselines_dir, args.published_dir)
    headers = add_feature_headers(args.published_dir / BIAS_CONFIG, args.labelled_dir)
    manifest = {"model_package_arn": args.model_package_arn, "files": published, "headers": headers}
    (args.published_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    args.latest_profile_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.profile_dir / "profile.json", args.latest_profile_dir / "profile.json")
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
