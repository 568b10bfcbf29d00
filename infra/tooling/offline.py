"""Run the real program under Pulumi's mocks and record what it registers: the offline preview's engine.

`record(program, ...)` runs any program function (the whole platform or one component in a test) and
returns a `Plan`: every resource with its type, name, parent, provider, resolved inputs and options.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from mlops_platform.components.monitoring import UNREADABLE_SECRET
from mlops_platform.infra.config import PROJECT
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

SECRET_TEXT = "[secret]"
"""How a secret input appears in the plan (JSON and preview), like `pulumi preview` shows it."""

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS_DIR = REPO_ROOT / "stacks"
MOCK_ACCOUNT = "123456789012"
MOCK_REGION = "us-east-1"
MOCK_CREATION_TIME = 1767225600
"""Creation time (Unix seconds, 2026-01-01) in the offline-store locations the mocks resolve for feature groups."""
MOCK_GATEWAY_CIDRS = ("192.0.2.0/24", "203.0.113.0/24")
"""What a mocked gateway VPC endpoint reports as its service's ranges (documentation prefixes, not S3's)."""
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it: the same documents, parsed ~10x faster."""


@dataclass
class PlannedResource:
    """One registration as the engine would receive it."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    inputs: dict[str, Any]
    options: dict[str, Any]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Input name -> URNs of the resources whose outputs that input was computed from (what links a
    bucket's policy to its bucket for the policy rules)."""

    @property
    def id_name(self) -> str:
        """`type::name`, unique within a plan."""
        return f"{self.type}::{self.name}"


@dataclass
class Plan:
    """Everything a program registered, in URN order, and its stack outputs."""

    project: str
    stack: str
    resources: list[PlannedResource]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[PlannedResource]:
        """Resources of one type token."""
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str) -> PlannedResource:
        """The resource with this type and logical name; KeyError if absent."""
        for resource in self.resources:
            if resource.type == type_ and resource.name == name:
                return resource
        raise KeyError(f"{type_} {name!r} is not in the plan")

    def children(self, parent_urn: str) -> list[PlannedResource]:
        """Direct children of a resource."""
        return [r for r in self.resources if r.parent == parent_urn]

    def to_dict(self) -> dict[str, Any]:
        """Plain data, stable across runs (the `--json` output)."""
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [asdict(r) for r in self.resources],
            "outputs": self.outputs,
        }

    def to_json(self) -> str:
        """Indented, key-sorted JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)


_AUTONAMED = frozenset(
    {
        "aws:sagemaker/model:Model",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition",
        "aws:sagemaker/monitoringSchedule:MonitoringSchedule",
    }
)
"""Resource types whose physical name the provider generates when none is given."""


class PlatformMocks(pulumi.runtime.Mocks):
    """Deterministic stand-ins for the cloud: IDs and ARNs derived from names, never random."""

    def __init__(self, account: str = MOCK_ACCOUNT, region: str = MOCK_REGION) -> None:
        self.account = account
        self.region = region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        state = dict(args.inputs)
        state.update(self._computed(args.typ, args.name, args.inputs))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account, "arn": f"arn:aws:iam::{self.account}:root", "userId": "mock"}
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = "abcdef"
            return {
                "names": [f"{self.region}{c}" for c in letters],
                "zoneIds": [f"{self.region}-az{i + 1}" for i in range(len(letters))],
                "id": self.region,
            }
        return {}

    def _computed(self, type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        account, region = self.account, self.region
        if type_ == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or f"{inputs.get('bucketPrefix') or name + '-'}0000"
            return {"bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": region}
        if type_ == "aws:kms/key:Key":
            key_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
            return {"keyId": key_id, "arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"}
        if type_ in ("aws:iam/role:Role", "aws:iam/policy:Policy"):
            kind = "role" if type_.endswith("Role") else "policy"
            physical = inputs.get("name") or name
            return {"name": physical, "arn": f"arn:aws:iam::{account}:{kind}/{physical}"}
        if type_ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(inputs.get("url", name)).removeprefix("https://")
            return {"arn": f"arn:aws:iam::{account}:oidc-provider/{host}"}
        if type_ == "aws:sagemaker/featureGroup:FeatureGroup":
            # AWS resolves the offline store's location on creation: <s3Uri>/<account>/sagemaker/<region>/
            # offline-store/<group>-<creation time>/data (SageMaker's "offline store URI structures").
            offline = dict(inputs.get("offlineStoreConfig") or {})
            storage = dict(offline.get("s3StorageConfig") or {})
            if storage.get("s3Uri"):
                storage["resolvedOutputS3Uri"] = (
                    f"{storage['s3Uri']}/{account}/sagemaker/{region}/offline-store/"
                    f"{inputs.get('featureGroupName') or name}-{MOCK_CREATION_TIME}/data"
                )
                return {"offlineStoreConfig": {**offline, "s3StorageConfig": storage}}
            return {}
        if type_ == "aws:eks/cluster:Cluster":
            physical = inputs.get("name") or name
            digest = uuid.uuid5(uuid.NAMESPACE_URL, physical).hex
            return {
                "arn": f"arn:aws:eks:{region}:{account}:cluster/{physical}",
                "endpoint": f"https://{digest[:32].upper()}.gr7.{region}.eks.amazonaws.com",
                "certificateAuthority": {"data": "TU9DSy1DQQ=="},
                "vpcConfig": {**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{digest[:17]}"},
            }
        if type_ == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs.get("vpcEndpointType") == "Gateway":
            # Stand-ins for the service's published ranges (documentation prefixes, never real S3 addresses).
            return {
                "prefixListId": f"pl-{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:8]}",
                "cidrBlocks": list(MOCK_GATEWAY_CIDRS),
            }
        if type_ == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1, "arn": f"arn:aws:ec2:{region}:{account}:launch-template/lt-{name}"}
        if type_ == "aws:sqs/queue:Queue":
            physical = inputs.get("name") or name
            return {
                "arn": f"arn:aws:sqs:{region}:{account}:{physical}",
                "url": f"https://sqs.{region}.amazonaws.com/{account}/{physical}",
            }
        if type_ == "aws:cloudwatch/logGroup:LogGroup":
            group = inputs.get("name") or f"{inputs.get('namePrefix') or name + '-'}0000"
            return {"name": group, "arn": f"arn:aws:logs:{region}:{account}:log-group:{group}"}
        if type_ == "aws:ec2/eip:Eip":
            return {"allocationId": f"eipalloc-{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:17]}"}
        if type_ == "aws:ec2/vpcEndpoint:VpcEndpoint" and inputs.get("vpcEndpointType") == "Gateway":
            return {"prefixListId": f"pl-{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:8]}"}
        if registry := self._registry_computed(type_, name, inputs):
            return registry
        service = type_.split(":")[1].split("/")[0] if ":" in type_ else "mock"
        computed = {"arn": f"arn:aws:{service}:{region}:{account}:{name}"}
        if type_ in _AUTONAMED and not inputs.get("name"):
            # The provider auto-names these (logical name + random suffix); a fixed suffix keeps plans stable.
            computed["name"] = f"{name}-0000000"
        return computed

    def _registry_computed(self, type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """Registry and monitoring resources: ARNs and URLs shaped like AWS's."""
        account, region = self.account, self.region
        if type_ == "aws:ecr/repository:Repository":
            repo = inputs.get("name") or name
            return {
                "arn": f"arn:aws:ecr:{region}:{account}:repository/{repo}",
                "registryId": account,
                "repositoryUrl": f"{account}.dkr.ecr.{region}.amazonaws.com/{repo}",
            }
        if type_ == "aws:sns/topic:Topic":
            return {"arn": f"arn:aws:sns:{region}:{account}:{inputs.get('name') or name}"}
        if type_ == "aws:sagemaker/modelPackageGroup:ModelPackageGroup":
            group = str(inputs.get("modelPackageGroupName") or name)
            return {"arn": f"arn:aws:sagemaker:{region}:{account}:model-package-group/{group.lower()}"}
        if type_ == "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer":
            server = inputs.get("trackingServerName") or name
            return {
                "arn": f"arn:aws:sagemaker:{region}:{account}:mlflow-tracking-server/{server}",
                "trackingServerUrl": f"https://t-{server}.{region}.experiments.sagemaker.aws",
            }
        if type_ == "aws:cloudwatch/dashboard:Dashboard":
            dashboard = inputs.get("dashboardName") or name
            return {"dashboardArn": f"arn:aws:cloudwatch::{account}:dashboard/{dashboard}"}
        if type_ == "aws:budgets/budget:Budget":
            return {"arn": f"arn:aws:budgets::{account}:budget/{inputs.get('name') or name}"}
        return None


class _RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, keeping each registration request's options too."""

    def __init__(self, mocks_: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks_)
        self.requests: dict[str, Any] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.requests[response.urn] = request
        return response


def record(
    program: Callable[[], Mapping[str, Any] | None],
    *,
    stack: str = "test",
    config: Mapping[str, str] | None = None,
    account: str = MOCK_ACCOUNT,
    region: str = MOCK_REGION,
    secret_keys: Iterable[str] = (),
) -> Plan:
    """Run `program` under mocks with `config` (full `namespace:key` → text) and return what it registered.

    The program's return value (a dict of Outputs) becomes the plan's outputs. Exceptions from the
    program propagate unchanged (a `ConfigError` stays a `ConfigError`).
    """
    platform_mocks = PlatformMocks(account=account, region=region)
    monitor = _RecordingMonitor(platform_mocks)
    pulumi.runtime.set_all_config(dict(config or {}), sorted({*secret_keys, *getattr(config, "secret_keys", ())}))
    pulumi.runtime.set_mocks(platform_mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()

    outputs: dict[str, Any] = {}

    def run() -> None:
        returned = program() or {}
        resolved = _sync_await(pulumi.Output.from_input(returned).future())
        outputs.update(resolved or {})

    with _without_source_positions():
        _sync_await(run_pulumi_func(run))
    registrations = monitor.get_registered_resources()
    resources = [_planned(urn, request, registrations[urn].state) for urn, request in monitor.requests.items()]
    resources.sort(key=lambda r: r.urn)
    return Plan(project=PROJECT, stack=stack, resources=resources, outputs=_plain(outputs))


@contextlib.contextmanager
def _without_source_positions() -> Iterator[None]:
    """Skip the stack walk Pulumi does for every registration while the mocks run.

    The SDK records where each resource was declared (a source position and the stack trace, which the engine
    shows in diagnostics); the mock monitor drops them and the plan has no use for them, and walking and
    converting the stack was about 12 % of the offline preview's registration time. Only under `record`:
    a real `pulumi up` keeps them. If the SDK renames its private helper, nothing is skipped.
    """
    from pulumi.runtime import resource as runtime_resource
    from pulumi.runtime.proto import source_pb2

    original = getattr(runtime_resource, "_get_stack_trace", None)
    if original is None:
        yield
        return
    runtime_resource._get_stack_trace = source_pb2.StackTrace  # an empty trace: no source position
    try:
        yield
    finally:
        runtime_resource._get_stack_trace = original


def _planned(urn: str, request: Any, state: Mapping[str, Any]) -> PlannedResource:
    from pulumi.runtime import rpc

    inputs = rpc.deserialize_properties(request.object) if request.object else {}
    return PlannedResource(
        urn=urn,
        type=request.type,
        name=request.name,
        parent=request.parent or None,
        custom=bool(request.custom),
        provider=request.provider.split("::")[-2] if request.provider else None,
        inputs=_plain(inputs),
        options={
            "protect": bool(request.protect),
            "retain_on_delete": bool(request.retainOnDelete),
            "delete_before_replace": bool(request.deleteBeforeReplace),
            "depends_on": sorted(request.dependencies),
            "ignore_changes": sorted(request.ignoreChanges),
            "aliases": sorted([*request.aliasURNs, *(_alias_text(a) for a in request.aliases)]),
        },
        property_dependencies={
            key: sorted(deps.urns) for key, deps in sorted(request.propertyDependencies.items()) if deps.urns
        },
    )


def _alias_text(alias: Any) -> str:
    if alias.WhichOneof("alias") == "urn":
        return alias.urn
    spec = alias.spec
    return f"name={spec.name} type={spec.type} parent={spec.parentUrn or spec.noParent}"


def _plain(value: Any) -> Any:
    """JSON-friendly copy: tuples to lists, policy documents (JSON text) kept as text, secrets as `[secret]`."""
    if rpc.is_rpc_secret(value):
        return SECRET_TEXT
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class StackConfig(dict):
    """A stack file's config as the engine passes it, and which keys hold secrets."""

    secret_keys: tuple[str, ...] = ()


def stack_config(stack: str, stacks_dir: Path = STACKS_DIR) -> StackConfig:
    """A stack file's `config:` as the engine passes it: `namespace:key` → text (objects as JSON).

    Without the stack's secrets provider, `secure:` values (top-level or nested, as `pulumi config set --secret
    [--path]` writes them) cannot be decrypted: they become `UNREADABLE_SECRET`, and their top-level key is
    marked secret, as the engine marks it."""
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in stacks_dir.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {path.name} in {stacks_dir}; stacks: {', '.join(known)}")
    config = (yaml.load(path.read_text(), Loader=_YAML_LOADER) or {}).get("config") or {}
    secret_keys = tuple(sorted(key for key, value in config.items() if _has_secure(value)))
    result = StackConfig({key: _engine_text(_opaque(value)) for key, value in config.items()})
    result.secret_keys = secret_keys
    return result


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"} and isinstance(value["secure"], str)


def _has_secure(value: Any) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_has_secure(v) for v in value.values())
    return isinstance(value, list) and any(_has_secure(v) for v in value)


def _opaque(value: Any) -> Any:
    if _is_secure(value):
        return UNREADABLE_SECRET
    if isinstance(value, dict):
        return {k: _opaque(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_opaque(v) for v in value]
    return value


def _engine_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def preview_stack(stack: str, stacks_dir: Path = STACKS_DIR, config: Mapping[str, str] | None = None) -> Plan:
    """Run the whole platform program for `stack` with its stack file's config (or `config`) under mocks."""
    from mlops_platform.infra.program import main

    config = stack_config(stack, stacks_dir) if config is None else config
    account = config.get(f"{PROJECT}:account", MOCK_ACCOUNT)
    region = config.get(f"{PROJECT}:region", MOCK_REGION)
    return record(main, stack=stack, config=config, account=account, region=region)
