"""The multi-language package: Pulumi's own analyzer reads every public component (the schema other languages'
SDKs are generated from), and values arriving the way the provider passes them (camelCase keys, dicts for
nested types, enum values) build the same resources as Python callers."""

import functools
import importlib
import inspect
import json
import pkgutil
from enum import Enum
from pathlib import Path

import pulumi
import pytest
import yaml
from mlops_platform.components.provider import PACKAGE_NAME, public_components
from mlops_platform.infra.tooling.offline import record
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def schema() -> dict:
    return json.loads(ComponentProvider(public_components(), PACKAGE_NAME, version="0.1.0").schema)


def _token(component: type) -> str:
    return f"{PACKAGE_NAME}:index:{component.__name__}"


def test_every_public_component_is_in_the_schema_with_a_description():
    resources = schema()["resources"]
    assert set(resources) == {_token(c) for c in public_components()}
    for token, resource in resources.items():
        assert resource["isComponent"] is True
        assert resource.get("description"), token


def test_every_component_of_the_library_is_hosted():
    """A ComponentResource added to `components` without being listed in `components.provider` would escape the
    schema checks below (and be missing for other languages)."""
    defined = set()
    import mlops_platform.components as library

    for module in pkgutil.walk_packages(library.__path__, "mlops_platform.components."):
        for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(cls, pulumi.ComponentResource) and cls.__module__.startswith("mlops_platform.components."):
                defined.add(cls)
    public = {cls for cls in defined if not cls.__name__.startswith("_")}
    assert sorted(c.__name__ for c in public - set(public_components())) == []


@pytest.mark.parametrize("component", public_components(), ids=lambda c: c.__name__)
def test_every_argument_has_a_description_and_a_type(component):
    resource = schema()["resources"][_token(component)]
    args_type = inspect.get_annotations(component.__init__)["args"]
    names = {name.replace("_", "") for name in args_type.__annotations__}
    assert {name.lower() for name in resource["inputProperties"]} == names
    for name, prop in resource["inputProperties"].items():
        assert prop.get("description"), f"{component.__name__}.{name}"
        assert "type" in prop or "$ref" in prop, f"{component.__name__}.{name}"
    # Required in the schema only where required in Python (an Optional required key, e.g. ModelEndpoint's
    # explicit `vpc: None`, is optional in the schema: other languages cannot send an explicit null).
    assert set(resource.get("requiredInputs", [])) <= {_camel(n) for n in args_type.__required_keys__}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.mark.parametrize("component", public_components(), ids=lambda c: c.__name__)
def test_every_component_has_documented_outputs(component):
    outputs = schema()["resources"][_token(component)]["properties"]
    assert outputs
    for name, prop in outputs.items():
        assert prop.get("description"), f"{component.__name__}.{name}"


def test_closed_choices_are_enums_with_documented_values():
    types = schema()["types"]
    enums = {token.rsplit(":", 1)[1]: t for token, t in types.items() if "enum" in t}
    assert {"BucketEncryption", "ObjectLockMode", "RolloutType", "NatGateways", "AlertProtocol", "CapacityType"} <= set(
        enums
    )
    for name, enum in enums.items():
        assert enum["type"] == "string", name
        assert all(value.get("description") for value in enum["enum"]), name
    encryption = schema()["resources"][_token_of("SecureBucket")]["inputProperties"]["encryption"]
    assert encryption["$ref"] == f"#/types/{PACKAGE_NAME}:index:BucketEncryption"
    rollout = types[f"{PACKAGE_NAME}:index:Rollout"]["properties"]["type"]
    assert rollout["$ref"] == f"#/types/{PACKAGE_NAME}:index:RolloutType"


def _token_of(name: str) -> str:
    return f"{PACKAGE_NAME}:index:{name}"


def test_every_enum_of_the_python_api_is_in_the_schema():
    analyzed = Analyzer(PACKAGE_NAME).analyze(public_components())["type_definitions"]
    for name, definition in analyzed.items():
        if isinstance(definition.python_type, type) and issubclass(definition.python_type, Enum):
            assert definition.enum, name


def test_the_plugin_manifest_points_at_the_entry_point():
    manifest = yaml.safe_load((REPO / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    entry = (REPO / manifest["main"]).read_text()
    assert "from mlops_platform.components.provider import main" in entry


def test_inputs_as_the_provider_passes_them_build_the_component():
    provider = ComponentProvider(public_components(), PACKAGE_NAME, version="0.1.0")
    definition = provider._component_defs["SecureBucket"]
    inputs = {
        "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k",
        "accessLogBucket": "p-dev-logs",
        "encryption": "aws:kms",
        "objectLock": {"mode": "COMPLIANCE", "retentionDays": 30},
        "abortIncompleteMultipartUploadDays": 3.0,  # numbers arrive as floats
    }

    def program():
        constructor = provider._components["SecureBucket"]
        constructor("data", provider.map_inputs(inputs, definition))

    plan = record(program)
    lock = plan.get("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "data-object-lock")
    assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 30}
    rules = plan.get("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "data-lifecycle").inputs
    abort = next(r for r in rules["rules"] if r["id"] == "abort-incomplete-multipart-uploads")
    assert abort["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 3


def test_yaml_example_in_the_docs_uses_a_real_component_and_real_inputs():
    text = (REPO / "docs" / "components-multilanguage.md").read_text()
    program = yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0])
    resources = schema()["resources"]
    for name, resource in program["resources"].items():
        if not resource["type"].startswith(f"{PACKAGE_NAME}:"):
            continue
        declared = resources[resource["type"]]
        assert set(resource.get("properties", {})) <= set(declared["inputProperties"]), name
        assert set(declared.get("requiredInputs", [])) <= set(resource.get("properties", {})), name
