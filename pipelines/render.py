"""Render each pipeline kind's definition with the sagemaker SDK into its checked-in template.

    python -m pipelines.render            # rewrite pipelines/<kind>/definition.template.json
    python -m pipelines.render --check    # exit 1 if a checked-in template is stale
    mlops-platform pipelines render [--check]

Rendering is fully offline: explicit s3:// URIs (no default bucket), a full role ARN placeholder with
SAGEMAKER_VALIDATE_ROLE=false, a fixed region and dummy credentials, code referenced by S3 URI (the
stack uploads it, the SDK uploads nothing), telemetry opted out, and every socket connection refused
while the SDK runs, so an attempted network call fails the render instead of hanging or leaking.
Needs the `pipelines` extra: `uv sync --extra pipelines`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import socket
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from pipelines.template import KINDS, PLACEHOLDERS, PipelineKind, placeholders_in

RENDER_REGION = "us-east-1"
"""Region of the rendering session; nothing region-specific reaches the template."""

_SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}

_FLOAT_PARAMETERS = {"MetricThreshold": "{{metric_threshold}}"}
"""ParameterFloat defaults the SDK types as numbers; the template carries their placeholder instead."""


class NetworkAttemptError(RuntimeError):
    """The SDK tried to open a connection while rendering."""


@contextlib.contextmanager
def offline() -> Iterator[None]:
    """Environment for an offline render: no config files, no role validation, no network."""
    saved_env = dict(os.environ)
    os.environ.update({
        "SAGEMAKER_VALIDATE_ROLE": "false",
        "AWS_DEFAULT_REGION": RENDER_REGION,
        "AWS_REGION": RENDER_REGION,
        "AWS_ACCESS_KEY_ID": "offline",
        "AWS_SECRET_ACCESS_KEY": "offline",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": os.devnull,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": os.devnull,
    })
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    original_connect = socket.socket.connect

    def refuse(self: socket.socket, address: Any) -> None:
        raise NetworkAttemptError(f"pipelines.render is offline; the SDK tried to connect to {address!r}")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        os.environ.clear()
        os.environ.update(saved_env)


def render(kind: PipelineKind) -> dict[str, Any]:
    """The kind's definition as the SDK renders it, with placeholders, as a JSON-ready dict."""
    with offline():
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
            text = module.build(session).definition()
        finally:
            logging.disable(logging.NOTSET)
    for sentinel, placeholder in module.SENTINELS.items():
        text = text.replace(sentinel, placeholder)
    definition = json.loads(text)
    for parameter in definition["Parameters"]:
        if parameter["Name"] in _FLOAT_PARAMETERS:
            parameter["DefaultValue"] = _FLOAT_PARAMETERS[parameter["Name"]]
    unknown = placeholders_in(definition) - set(PLACEHOLDERS)
    if unknown:
        raise ValueError(f"{kind.name}: template uses placeholders not in PLACEHOLDERS: {sorted(unknown)}")
    return definition


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
    parser = argparse.ArgumentParser(prog="python -m pipelines.render", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a checked-in template is stale")
    parser.add_argument("kinds", nargs="*", help="kinds to render (default: all)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", module="sagemaker")
    stale = []
    for name in args.kinds or KINDS:
        kind = KINDS[name]
        started = time.perf_counter()
        text = dumps(render(kind))
        elapsed = time.perf_counter() - started
        current = kind.template_path.read_text() if kind.template_path.exists() else None
        if args.check:
            if current != text:
                stale.append(kind)
            print(f"{kind.name}: {'up to date' if current == text else 'STALE'} ({elapsed:.1f}s)")
        else:
            kind.template_path.write_text(text)
            print(f"{kind.name}: wrote {kind.template_path} ({elapsed:.1f}s)")
    if stale:
        print("re-render with: python -m pipelines.render", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
