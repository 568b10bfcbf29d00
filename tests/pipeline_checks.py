"""Checks shared by the pipeline tests: reference resolution and botocore validation of a definition."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

EXECUTION_VARIABLES = {
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "StartDateTime",
    "CurrentDateTime",
}
"""`Execution.*` variables of SageMaker Pipelines."""

STEP_REQUEST = {
    "Processing": ("CreateProcessingJobRequest", {"ProcessingJobName": "job"}),
    "QualityCheck": ("CreateProcessingJobRequest", {"ProcessingJobName": "job"}),
    "ClarifyCheck": ("CreateProcessingJobRequest", {"ProcessingJobName": "job"}),
    "Training": ("CreateTrainingJobRequest", {"TrainingJobName": "job"}),
    "Model": ("CreateModelInput", {"ModelName": "model"}),
    "RegisterModel": ("CreateModelPackageInput", {}),
}
"""Step type -> the API request its Arguments are (without the name Pipelines generates)."""


def all_steps(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every step, including those nested in condition branches."""
    pending = list(definition["Steps"])
    while pending:
        step = pending.pop(0)
        yield step
        if step["Type"] == "Condition":
            pending += step["Arguments"].get("IfSteps", []) + step["Arguments"].get("ElseSteps", [])


def get_references(node: Any) -> Iterator[str]:
    """Every `{"Get": "..."}` expression in a definition."""
    if isinstance(node, dict):
        if set(node) == {"Get"}:
            yield node["Get"]
        for value in node.values():
            yield from get_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from get_references(value)


def unresolved_references(definition: dict[str, Any]) -> list[str]:
    """`Get` references that name no step, parameter, property file or execution variable."""
    steps = {step["Name"]: step for step in all_steps(definition)}
    parameters = {p["Name"] for p in definition["Parameters"]}
    bad = []
    for ref in get_references(definition):
        kind, _, rest = ref.partition(".")
        name, _, path = rest.partition(".")
        if kind == "Parameters":
            ok = rest in parameters
        elif kind == "Execution":
            ok = rest in EXECUTION_VARIABLES
        elif kind == "Steps" and path.startswith("PropertyFiles."):
            files = {f["PropertyFileName"] for f in steps.get(name, {}).get("PropertyFiles", [])}
            ok = path.removeprefix("PropertyFiles.") in files
        elif kind == "Steps":
            ok = name in steps and bool(path)
        else:
            ok = False
        if not ok:
            bad.append(ref)
    return bad


@functools.cache
def sagemaker_model():
    return botocore.session.get_session().get_service_model("sagemaker")


def concrete(node: Any, parameters: dict[str, Any]) -> Any:
    """The definition with every runtime expression replaced by a value of its kind: a parameter's default,
    or a sample S3 URI for step properties, joins and execution variables."""
    if isinstance(node, dict):
        if set(node) == {"Get"}:
            kind, _, name = node["Get"].partition(".")
            return parameters[name] if kind == "Parameters" else "s3://runtime-bucket/runtime-key"
        if set(node) == {"Std:Join"}:
            return "s3://runtime-bucket/runtime-key"
        return {key: concrete(value, parameters) for key, value in node.items()}
    if isinstance(node, list):
        return [concrete(value, parameters) for value in node]
    return node


def request_errors(definition: dict[str, Any]) -> dict[str, str]:
    """Step name -> botocore's validation report of the step's API request; empty when every step is valid."""
    parameters = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    validator = ParamValidator()
    errors = {}
    for step in all_steps(definition):
        if step["Type"] not in STEP_REQUEST:
            continue
        shape_name, generated = STEP_REQUEST[step["Type"]]
        request = {**concrete(step["Arguments"], parameters), **generated}
        report = validator.validate(request, sagemaker_model().shape_for(shape_name))
        if report.has_errors():
            errors[step["Name"]] = report.generate_report()
    return errors
