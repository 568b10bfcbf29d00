"""Render each pipeline kind's definition with the sagemaker SDK into its checked-in template.

    python -m mlops_platform.pipelines.render            # rewrite pipelines/<kind>/definition.template.json
    python -m mlops_platform.pipelines.render --check    # exit 1 if a checked-in template is stale
    mlops-platform pipelines render [--check]

Rendering is fully offline: explicit s3:// URIs (no default bucket), a full role ARN placeholder with
SAGEMAKER_VALIDATE_ROLE=false, a fixed region and dummy credentials, code referenced by S3 URI (the
stack uploads it), telemetry opted out, and every socket connection refused while the SDK runs, so an
attempted network call fails the render instead of hanging or leaking. The files the SDK uploads while
building steps (the Clarify checks' analysis configurations) are captured instead, under a deterministic
key below the pipeline's code prefix, into `<kind>/definition.assets.json`; the stack uploads them with
the scripts. Each kind renders one template per training storage kind (`definition.<storage>.template.json`).
Needs the `pipelines` extra: `uv sync --extra pipelines`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import re
import socket
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from mlops_platform.pipelines.template import (
    CODE_PREFIX,
    KINDS,
    PLACEHOLDERS,
    STORAGE_KINDS,
    PipelineKind,
    placeholders_in,
)

RENDER_REGION = "us-east-1"
"""Region of the rendering session; nothing region-specific reaches the template."""

_SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}

_TYPED_PARAMETERS = {"MetricThreshold": "{{metric_threshold}}", "SkipDriftChecks": "{{skip_drift_checks}}"}
"""Float/Boolean parameter defaults the SDK types as numbers; the template carries their placeholder instead."""

_REGIONAL_IMAGES = {
    re.compile(
        r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/sagemaker-model-monitor-analyzer"
    ): "{{model_monitor_image_uri}}",
    re.compile(
        r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/sagemaker-clarify-processing:[\w.-]+"
    ): "{{clarify_image_uri}}",
}
"""AWS images the SDK resolves for the render's region; the stack fills in its own region's."""

_RANDOM_SUFFIX = re.compile(r"(-monitoring-configuration)/.+/(analysis_config\.json)$")
"""The SDK files monitoring analysis configurations under a timestamped name and a UUID; the capture drops both."""


class NetworkAttemptError(RuntimeError):
    """The SDK tried to open a connection while rendering."""


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Environment for an offline render: no config files, no role validation, no network."""
    saved_env = dict(os.environ)
    os.environ.update(
        {
            "SAGEMAKER_VALIDATE_ROLE": "false",
            "AWS_DEFAULT_REGION": RENDER_REGION,
            "AWS_REGION": RENDER_REGION,
            "AWS_ACCESS_KEY_ID": "offline",
            "AWS_SECRET_ACCESS_KEY": "offline",
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": os.devnull,
            "SAGEMAKER_USER_CONFIG_OVERRIDE": os.devnull,
        }
    )
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    original_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        raise NetworkAttemptError(f"mlops_platform.pipelines.render is offline; the SDK tried to connect to {address!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        os.environ.clear()
        os.environ.update(saved_env)


class _Uploads:
    """Stands in for the SDK's S3Uploader while rendering: records what it would upload, returns its URI."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def _record(self, uri: str, body: str) -> str:
        uri = _RANDOM_SUFFIX.sub(r"\1/\2", uri)
        if not uri.startswith(CODE_PREFIX + "/"):
            raise ValueError(f"the SDK uploads {uri}, outside the pipeline's code prefix {CODE_PREFIX}/")
        self.files[uri.removeprefix(CODE_PREFIX + "/")] = body
        return uri

    def upload(self, local_path: str, desired_s3_uri: str, *_: Any, **__: Any) -> str:
        with open(local_path) as file:
            return self._record(f"{desired_s3_uri.rstrip('/')}/{os.path.basename(local_path)}", file.read())

    def upload_string_as_file_body(self, body: str, desired_s3_uri: str, *_: Any, **__: Any) -> str:
        return self._record(desired_s3_uri, body)


@contextlib.contextmanager
def _captured_uploads() -> Iterator[_Uploads]:
    from sagemaker.core.s3.client import S3Uploader

    uploads = _Uploads()
    saved = S3Uploader.upload, S3Uploader.upload_string_as_file_body
    S3Uploader.upload = staticmethod(uploads.upload)  # type: ignore[method-assign]
    S3Uploader.upload_string_as_file_body = staticmethod(uploads.upload_string_as_file_body)  # type: ignore[method-assign]
    try:
        yield uploads
    finally:
        S3Uploader.upload, S3Uploader.upload_string_as_file_body = (  # type: ignore[method-assign]
            staticmethod(saved[0]),
            staticmethod(saved[1]),
        )


@contextlib.contextmanager
def _config_validated_once() -> Iterator[None]:
    # The SDK validates its (constant) config against a large JSON schema on every config look-up, ~1.5 s
    # each, ~180 look-ups per pipeline; validating each distinct config once gives the same verdict.
    from sagemaker.core.config.config_manager import SageMakerConfig

    original = SageMakerConfig.validate_sagemaker_config
    valid: set[str] = set()

    def validate_once(sagemaker_config: dict | None = None) -> None:
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in valid:
            original(sagemaker_config)
            valid.add(key)

    SageMakerConfig.validate_sagemaker_config = staticmethod(validate_once)  # type: ignore[method-assign]
    try:
        yield
    finally:
        SageMakerConfig.validate_sagemaker_config = staticmethod(original)  # type: ignore[method-assign]


def render(kind: PipelineKind, storage: str = "ebs") -> dict[str, Any]:
    """The kind's definition for one training storage kind as the SDK renders it, with placeholders."""
    return render_with_assets(kind, storage)[0]


def render_with_assets(kind: PipelineKind, storage: str = "ebs") -> tuple[dict[str, Any], dict[str, Any]]:
    """(definition, assets): the rendered definition and the files the SDK would have uploaded, by key below
    the code prefix, parsed from JSON and with placeholders."""
    with offline(), _captured_uploads() as uploads, _config_validated_once():
        import boto3
        from sagemaker.core.workflow.pipeline_context import PipelineSession

        module = importlib.import_module(f"pipelines.{kind.folder.name}.definition")
        _quiet_sdk_loggers()
        session = PipelineSession(
            boto_session=boto3.Session(region_name=RENDER_REGION),
            sagemaker_config=_SDK_CONFIG,
        )
        logging.disable(logging.WARNING)  # the SDK's INFO/DEBUG chatter (its loggers are made on the fly)
        try:
            text = module.build(session, storage).definition()
        finally:
            logging.disable(logging.NOTSET)
    for sentinel, placeholder in module.SENTINELS.items():
        text = text.replace(sentinel, placeholder)
    for image, placeholder in _REGIONAL_IMAGES.items():
        text = image.sub(placeholder, text)
    definition = json.loads(text)
    for parameter in definition["Parameters"]:
        if parameter["Name"] in _TYPED_PARAMETERS:
            parameter["DefaultValue"] = _TYPED_PARAMETERS[parameter["Name"]]
    assets = {key: json.loads(body) for key, body in sorted(uploads.files.items())}
    unknown = placeholders_in([definition, assets]) - set(PLACEHOLDERS)
    if unknown:
        raise ValueError(f"{kind.name}: template uses placeholders not in PLACEHOLDERS: {sorted(unknown)}")
    return definition, assets


def _quiet_sdk_loggers() -> None:
    # The SDK sets levels on its own loggers at import; its INFO/DEBUG chatter is not the render's output.
    logging.getLogger().setLevel(logging.WARNING)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("sagemaker", "botocore")):
            logging.getLogger(name).setLevel(logging.ERROR)


def dumps(definition: dict[str, Any]) -> str:
    """The template file's text: indented, key order as the SDK wrote it."""
    return json.dumps(definition, indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Render every kind (or check that the checked-in templates are current)."""
    parser = argparse.ArgumentParser(prog="python -m mlops_platform.pipelines.render", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a checked-in template is stale")
    parser.add_argument("kinds", nargs="*", help="kinds to render (default: all)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="sagemaker")
    stale = []
    for name in args.kinds or KINDS:
        kind = KINDS[name]
        started = time.perf_counter()
        files = {}
        for storage in STORAGE_KINDS:
            definition, assets = render_with_assets(kind, storage)
            files[kind.template_path_for(storage)] = dumps(definition)
            files[kind.assets_path] = dumps(assets)  # the same for every storage kind
        elapsed = time.perf_counter() - started
        for path, text in files.items():
            current = path.read_text() if path.exists() else None
            if args.check:
                if current != text:
                    stale.append(path)
                print(f"{kind.name}: {path.name} {'up to date' if current == text else 'STALE'} ({elapsed:.1f}s)")
            else:
                path.write_text(text)
                print(f"{kind.name}: wrote {path} ({elapsed:.1f}s)")
    if stale:
        print("re-render with: python -m mlops_platform.pipelines.render", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
