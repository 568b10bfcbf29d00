"""Monthly cost estimate of a `Plan`, from the dated on-demand price table in `infra/prices/<region>.yaml`.

The estimate is the stack's *idle* monthly bill: what it costs with nobody using it. So pools that scale to
zero (Karpenter NodePools, GPU node groups) count at their minimum, SageMaker endpoints at their minimum
instance count (serverless at zero unless concurrency is provisioned), and usage-driven charges (NAT and
endpoint data, S3 storage, log ingestion) at the volumes stated in the table's `usage` section.

Each resource type is priced by one function of the plan's camelCase inputs (`PRICERS`); types the table
knows to be free are counted but not listed; any other type is reported as "not priced", never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from mlops_platform.infra.tooling.offline import Plan, PlannedResource
from pydantic import BaseModel, ConfigDict, Field, field_validator

PRICES_DIR = Path(__file__).resolve().parent / "prices"
DEFAULT_REGION = "us-east-1"
SECONDS_PER_HOUR = 3600
GPU_FAMILIES = re.compile(r"^(ml\.)?(g\d|p\d|inf\d|trn\d|dl\d)")
"""Instance families with accelerators: their pools count at the minimum (idle) size."""
NODEPOOL = re.compile(r"^kubernetes:karpenter\.sh/v[0-9a-z]+:NodePool$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    """One price in USD; `assumption` says why it is not confirmed from a dated source."""

    usd: float = Field(ge=0)
    assumption: str | None = None


def _price(value: Any) -> Any:
    return {"usd": value} if isinstance(value, int | float) else value


class Services(_Strict):
    """Prices of everything that is not an instance-hour."""

    eks_cluster_hourly: Price
    eks_cluster_extended_support_hourly: Price
    nat_gateway_hourly: Price
    nat_gateway_per_gb: Price
    public_ipv4_hourly: Price
    interface_endpoint_az_hourly: Price
    interface_endpoint_per_gb: Price
    kms_key_monthly: Price
    s3_standard_gb_month: Price
    ebs_gp3_gb_month: Price
    cloudwatch_logs_ingest_per_gb: Price
    cloudwatch_logs_storage_gb_month: Price
    cloudwatch_alarm_monthly: Price
    cloudwatch_dashboard_monthly: Price
    ecr_storage_gb_month: Price
    secrets_manager_secret_monthly: Price
    sagemaker_serverless_provisioned_gb_second: Price
    sagemaker_ml_storage_gb_month: Price
    load_balancer_hourly: Price
    cloudtrail_data_events_per_100k: Price
    cloudtrail_management_events_first_copy_per_100k: Price
    feature_store_online_gb_month: Price
    s3_inter_region_transfer_per_gb: Price
    s3_replication_time_control_per_gb: Price

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_prices(cls, value: Any) -> Any:
        return _price(value)


class Usage(_Strict):
    """Monthly volumes assumed for usage-priced resources."""

    nat_gb_per_month: float = Field(ge=0)
    interface_endpoint_gb_per_month: float = Field(ge=0)
    s3_gb_per_bucket: float = Field(ge=0)
    log_group_gb_per_month: float = Field(ge=0)
    ecr_gb_per_repository: float = Field(ge=0)
    node_disk_gb_default: float = Field(ge=0)
    cloudtrail_data_events_per_bucket: float = Field(ge=0)
    feature_store_online_gb_per_group: float = Field(ge=0)
    replicated_gb_per_bucket: float = Field(ge=0)


class PriceTable(_Strict):
    """A region's price table (`infra/prices/<region>.yaml`)."""

    as_of: date
    region: str
    currency: Literal["USD"]
    hours_per_month: float = Field(gt=0)
    sources: list[str]
    ec2_instance_hourly: dict[str, Price]
    sagemaker_instance_hourly: dict[str, Price]
    sagemaker_mlflow_hourly: dict[str, Price]
    services: Services
    usage: Usage
    free_types: frozenset[str]

    @field_validator("ec2_instance_hourly", "sagemaker_instance_hourly", "sagemaker_mlflow_hourly", mode="before")
    @classmethod
    def _numbers_are_prices(cls, value: Any) -> Any:
        return {k: _price(v) for k, v in value.items()} if isinstance(value, dict) else value


@cache
def load_prices(region: str = DEFAULT_REGION, prices_dir: Path = PRICES_DIR) -> PriceTable:
    """The price table of `region`; FileNotFoundError names the regions that have one."""
    path = prices_dir / f"{region}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in prices_dir.glob("*.yaml")))
        raise FileNotFoundError(f"no price table {path.name} in {prices_dir}; regions with prices: {known}")
    return PriceTable.model_validate(yaml.safe_load(path.read_text()))


@dataclass(frozen=True)
class Line:
    """The monthly cost of one resource and how it was computed."""

    type: str
    name: str
    monthly_usd: float
    basis: str
    assumptions: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """`type::name`, unique within a plan."""
        return f"{self.type}::{self.name}"


@dataclass
class Estimate:
    """A stack's idle monthly estimate."""

    stack: str
    region: str
    as_of: date
    lines: list[Line]
    not_priced: list[tuple[str, str, str]] = field(default_factory=list)
    """(type, name, why) of resources the table cannot price."""
    free: int = 0
    """Resources of types that cost nothing by themselves."""
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """Sum of all priced lines, USD per month."""
        return round(sum(line.monthly_usd for line in self.lines), 2)

    @property
    def assumptions(self) -> list[str]:
        """Every unconfirmed price or usage volume the estimate relied on, once each."""
        return sorted({a for line in self.lines for a in line.assumptions})

    def by_type(self) -> list[tuple[str, int, float]]:
        """(type, count, USD/month) per resource type, most expensive first."""
        totals: dict[str, list[float]] = {}
        for line in self.lines:
            entry = totals.setdefault(line.type, [0, 0.0])
            entry[0] += 1
            entry[1] += line.monthly_usd
        return sorted(((t, int(n), round(usd, 2)) for t, (n, usd) in totals.items()), key=lambda x: (-x[2], x[0]))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the `cost --json` output)."""
        return {
            "stack": self.stack,
            "region": self.region,
            "as_of": self.as_of.isoformat(),
            "total_monthly_usd": self.total,
            "lines": [
                {
                    "type": line.type,
                    "name": line.name,
                    "monthly_usd": round(line.monthly_usd, 2),
                    "basis": line.basis,
                    "assumptions": list(line.assumptions),
                }
                for line in self.lines
            ],
            "not_priced": [{"type": t, "name": n, "why": w} for t, n, w in self.not_priced],
            "free_resources": self.free,
            "assumptions": self.assumptions,
            "notes": self.notes,
        }


class Unpriced(Exception):
    """The table has no price for something this resource needs (the message says what)."""


@dataclass(frozen=True)
class _Part:
    usd: float
    text: str
    assumptions: tuple[str, ...] = ()


class _Pricing:
    """The table, with look-ups that record which prices were assumptions, and what the plan says about
    scaling (endpoint variants' autoscaling floors)."""

    def __init__(self, table: PriceTable, plan: Plan | None = None) -> None:
        self.table = table
        self.hours = table.hours_per_month
        self.endpoint_floors = endpoint_floors(plan) if plan is not None else {}

    def service(self, key: str) -> tuple[Price, tuple[str, ...]]:
        price: Price = getattr(self.table.services, key)
        return price, ((f"price {key}: {price.assumption}",) if price.assumption else ())

    def instance(self, kind: Literal["ec2", "sagemaker"], instance_type: str) -> tuple[Price, tuple[str, ...]]:
        table = self.table.ec2_instance_hourly if kind == "ec2" else self.table.sagemaker_instance_hourly
        if instance_type not in table:
            raise Unpriced(f"no {kind} price for instance type {instance_type!r}")
        price = table[instance_type]
        return price, ((f"price {instance_type}: {price.assumption}",) if price.assumption else ())

    def usage(self, key: str) -> tuple[float, tuple[str, ...]]:
        value = getattr(self.table.usage, key)
        return value, (f"usage {key} = {value:g}",)

    def hourly(self, key: str, count: float, what: str) -> _Part:
        price, notes = self.service(key)
        return _Part(count * price.usd * self.hours, f"{count:g} {what} x {self.hours:g} h x ${price.usd:g}", notes)

    def per_unit(self, key: str, usage_key: str, unit: str, what: str, count: float = 1) -> _Part:
        price, notes = self.service(key)
        quantity, usage_notes = self.usage(usage_key)
        return _Part(
            count * quantity * price.usd,
            f"{count * quantity:g} {unit} {what} x ${price.usd:g}",
            notes + usage_notes,
        )

    def instances(self, kind: Literal["ec2", "sagemaker"], instance_type: str, count: float) -> _Part:
        price, notes = self.instance(kind, instance_type)
        return _Part(
            count * price.usd * self.hours, f"{count:g} x {instance_type} x {self.hours:g} h x ${price.usd:g}", notes
        )


Pricer = Callable[[PlannedResource, _Pricing], list[_Part] | None]
"""Prices one resource: its cost parts, or None when this instance of the type is free."""


def _nat_gateway(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    return [
        pricing.hourly("nat_gateway_hourly", 1, "NAT gateway"),
        pricing.per_unit("nat_gateway_per_gb", "nat_gb_per_month", "GB", "processed"),
    ]


def _eip(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    return [pricing.hourly("public_ipv4_hourly", 1, "public IPv4 address")]


def _vpc_endpoint(resource: PlannedResource, pricing: _Pricing) -> list[_Part] | None:
    kind = resource.inputs.get("vpcEndpointType") or "Gateway"
    if kind == "Gateway":
        return None
    if kind != "Interface":
        raise Unpriced(f"vpcEndpointType {kind!r} has no price in the table")
    azs = max(1, len(resource.inputs.get("subnetIds") or []))
    return [
        pricing.hourly("interface_endpoint_az_hourly", azs, "AZ"),
        pricing.per_unit("interface_endpoint_per_gb", "interface_endpoint_gb_per_month", "GB", "processed"),
    ]


def _eks_cluster(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    support = ((resource.inputs.get("upgradePolicy") or {}).get("supportType") or "STANDARD").upper()
    if support == "EXTENDED":
        return [pricing.hourly("eks_cluster_extended_support_hourly", 1, "control plane (extended support)")]
    return [pricing.hourly("eks_cluster_hourly", 1, "control plane")]


def is_gpu(instance_type: str) -> bool:
    """True for accelerated instance families (g*, p*, inf*, trn*, dl*), with or without the `ml.` prefix."""
    return bool(GPU_FAMILIES.match(instance_type))


def _node_group(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    scaling = resource.inputs.get("scalingConfig") or {}
    types = resource.inputs.get("instanceTypes") or ["t3.medium"]  # EKS's default when unset
    instance_type = types[0]
    # GPU groups idle at their minimum (the autoscaler scales them down); CPU groups run at desired size.
    ami = str(resource.inputs.get("amiType") or "")
    if is_gpu(instance_type) or any(accelerated in ami for accelerated in ("NVIDIA", "NEURON", "GPU")):
        count = scaling.get("minSize", 0)
    else:
        count = scaling.get("desiredSize", scaling.get("minSize", 0))
    parts = [pricing.instances("ec2", instance_type, count)]
    if len(types) > 1:
        parts[0] = _Part(parts[0].usd, parts[0].text + f" (first of {len(types)} types)", parts[0].assumptions)
    if resource.inputs.get("capacityType") == "SPOT":
        parts[0] = _Part(parts[0].usd, parts[0].text + " (spot priced at on-demand)", parts[0].assumptions)
    if "diskSize" in resource.inputs:
        disk, disk_notes = float(resource.inputs["diskSize"]), ()
    else:
        disk, disk_notes = pricing.usage("node_disk_gb_default")
    price, notes = pricing.service("ebs_gp3_gb_month")
    parts.append(_Part(count * disk * price.usd, f"{count * disk:g} GB gp3 x ${price.usd:g}", notes + disk_notes))
    return parts


def _node_pool(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    limits = ((resource.inputs.get("spec") or {}).get("limits")) or {}
    shown = ", ".join(f"{k} {v}" for k, v in sorted(limits.items()))
    return [_Part(0.0, "Karpenter pool: 0 nodes when idle" + (f" (limits {shown})" if shown else ""))]


def _endpoint_configuration(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    parts: list[_Part] = []
    for variant in resource.inputs.get("productionVariants") or []:
        label = variant.get("variantName", "variant")
        serverless = variant.get("serverlessConfig")
        if serverless:
            provisioned = serverless.get("provisionedConcurrency") or 0
            memory_gb = (serverless.get("memorySizeInMb") or 0) / 1024
            if not provisioned:
                parts.append(_Part(0.0, f"{label}: serverless, $0 idle (billed per request)"))
                continue
            price, notes = pricing.service("sagemaker_serverless_provisioned_gb_second")
            seconds = pricing.hours * SECONDS_PER_HOUR
            text = f"{label}: {provisioned} provisioned x {memory_gb:g} GB x {seconds:g} s x ${price.usd:g}"
            parts.append(_Part(provisioned * memory_gb * seconds * price.usd, text, notes))
            continue
        instance_type = variant.get("instanceType")
        if not instance_type:
            raise Unpriced(f"variant {label!r} has neither instanceType nor serverlessConfig")
        count, why = variant.get("initialInstanceCount", 1), ""
        scaling = variant.get("managedInstanceScaling") or {}
        if scaling.get("status") == "ENABLED" and "minInstanceCount" in scaling:
            count, why = scaling["minInstanceCount"], " (managed scaling minimum)"
        if (resource.name, label) in pricing.endpoint_floors:
            count, source = pricing.endpoint_floors[(resource.name, label)]
            why = f" ({source})"
        part = pricing.instances("sagemaker", instance_type, count)
        parts.append(_Part(part.usd, f"{label}: {part.text}{why}", part.assumptions))
        if volume := variant.get("volumeSizeInGb"):
            price, notes = pricing.service("sagemaker_ml_storage_gb_month")
            parts.append(_Part(count * volume * price.usd, f"{count * volume:g} GB ML storage x ${price.usd:g}", notes))
    return parts


_SCALABLE_VARIANT = re.compile(r"^endpoint/([^/]+)/variant/([^/]+)$")
_AUTO_NAME = re.compile(r"^(.+)-[0-9a-z]{7}$")  # Pulumi's auto-naming: logical name + 7 random characters


def endpoint_floors(plan: Plan) -> dict[tuple[str, str], tuple[float, str]]:
    """(endpoint configuration's logical name, variant name) → (lowest instance count, where it comes from),
    from Application Auto Scaling targets and scheduled actions on `endpoint/<name>/variant/<variant>`."""
    endpoints = {
        str(r.inputs["name"]): r for r in plan.of_type("aws:sagemaker/endpoint:Endpoint") if r.inputs.get("name")
    }
    configs = plan.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration")

    def config_of(endpoint: PlannedResource) -> PlannedResource | None:
        wanted = str(endpoint.inputs.get("endpointConfigName") or "")
        auto = _AUTO_NAME.match(wanted)
        for config in configs:
            if config.inputs.get("name") == wanted or (auto and auto.group(1) == config.name):
                return config
        siblings = [c for c in configs if c.parent and c.parent == endpoint.parent]
        return siblings[0] if len(siblings) == 1 else None

    floors: dict[tuple[str, str], tuple[float, str]] = {}
    for resource in plan.resources:
        if resource.type == "aws:appautoscaling/target:Target":
            minimum, source = resource.inputs.get("minCapacity"), "autoscaling minCapacity"
        elif resource.type == "aws:appautoscaling/scheduledAction:ScheduledAction":
            minimum = (resource.inputs.get("scalableTargetAction") or {}).get("minCapacity")
            source = f"scheduled minCapacity, {resource.inputs.get('schedule', 'on a schedule')}"
        else:
            continue
        match = _SCALABLE_VARIANT.match(str(resource.inputs.get("resourceId") or ""))
        if minimum is None or not match or match.group(1) not in endpoints:
            continue
        config = config_of(endpoints[match.group(1)])
        key = (config.name, match.group(2)) if config else None
        if key and (key not in floors or minimum < floors[key][0]):
            floors[key] = (minimum, source)
    return floors


def _kms_key(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    price, notes = pricing.service("kms_key_monthly")
    return [_Part(price.usd, f"1 key x ${price.usd:g}/month", notes)]


def _bucket(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    return [pricing.per_unit("s3_standard_gb_month", "s3_gb_per_bucket", "GB", "stored")]


def _log_group(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    ingest = pricing.per_unit("cloudwatch_logs_ingest_per_gb", "log_group_gb_per_month", "GB", "ingested")
    monthly_gb, usage_notes = pricing.usage("log_group_gb_per_month")
    retention_months = min(resource.inputs.get("retentionInDays") or 365, 365) / 30
    price, notes = pricing.service("cloudwatch_logs_storage_gb_month")
    stored = monthly_gb * retention_months  # steady state: one retention period of logs
    return [ingest, _Part(stored * price.usd, f"{stored:g} GB kept x ${price.usd:g}", notes + usage_notes)]


def _repository(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    return [pricing.per_unit("ecr_storage_gb_month", "ecr_gb_per_repository", "GB", "stored")]


def _fixed(key: str, what: str) -> Pricer:
    def price(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
        value, notes = pricing.service(key)
        return [_Part(value.usd, f"1 {what} x ${value.usd:g}/month", notes)]

    return price


def _mlflow(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    size = resource.inputs.get("trackingServerSize") or "Small"  # the API's default
    price = pricing.table.sagemaker_mlflow_hourly.get(size)
    if price is None:
        raise Unpriced(f"no price for MLflow trackingServerSize {size!r}")
    notes = (f"price MLflow {size}: {price.assumption}",) if price.assumption else ()
    text = f"MLflow {size} x {pricing.hours:g} h x ${price.usd:g} (runs until stopped)"
    return [_Part(price.usd * pricing.hours, text, notes)]


def _trail(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    """Management events: the account's first copy is free. Data events: per 100,000 delivered, the assumed
    volume per watched bucket, halved when only writes are recorded (readOnly = false)."""
    parts = []
    for selector in resource.inputs.get("advancedEventSelectors") or []:
        fields = {f.get("field"): f for f in selector.get("fieldSelectors") or []}
        category = (fields.get("eventCategory") or {}).get("equals") or []
        if "Management" in category:
            price, notes = pricing.service("cloudtrail_management_events_first_copy_per_100k")
            parts.append(_Part(0.0, f"management events: first copy x ${price.usd:g}", notes))
        if "Data" in category:
            buckets = len((fields.get("resources.ARN") or {}).get("startsWiths") or []) or 1
            share = 0.5 if (fields.get("readOnly") or {}).get("equals") == ["false"] else 1.0
            per_bucket, usage_notes = pricing.usage("cloudtrail_data_events_per_bucket")
            price, notes = pricing.service("cloudtrail_data_events_per_100k")
            events = buckets * per_bucket * share
            scope = f"{buckets} buckets" + (", writes only" if share < 1 else "")
            text = f"{events:g} data events ({scope}) / 100k x ${price.usd:g}"
            parts.append(_Part(events / 100_000 * price.usd, text, notes + usage_notes))
    return parts


def _feature_group(resource: PlannedResource, pricing: _Pricing) -> list[_Part] | None:
    """The online store's storage; the offline store is the features bucket's storage, requests are usage."""
    if not (resource.inputs.get("onlineStoreConfig") or {}).get("enableOnlineStore"):
        return None
    return [
        pricing.per_unit("feature_store_online_gb_month", "feature_store_online_gb_per_group", "GB", "online store")
    ]


def _replication(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    """Inter-region transfer of the data replicated in a month, plus RTC where enabled; the replicas' storage is
    their buckets' lines."""
    parts = []
    for rule in resource.inputs.get("rules") or []:
        destination = rule.get("destination") or {}
        parts.append(
            pricing.per_unit("s3_inter_region_transfer_per_gb", "replicated_gb_per_bucket", "GB", "replicated")
        )
        if (destination.get("replicationTime") or {}).get("status") == "Enabled":
            parts.append(
                pricing.per_unit("s3_replication_time_control_per_gb", "replicated_gb_per_bucket", "GB", "under RTC")
            )
    return parts


def _monitoring_schedule(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    return [_Part(0.0, "billed per monitoring job run (usage, not idle)")]


def _cloud_control(resource: PlannedResource, pricing: _Pricing) -> list[_Part] | None:
    """Cloud Control resources by CloudFormation type: Model Monitor job definitions cost nothing until run."""
    if str(resource.inputs.get("typeName", "")).startswith("AWS::SageMaker::Model") and str(
        resource.inputs.get("typeName", "")
    ).endswith("JobDefinition"):
        return [_Part(0.0, "monitoring job definition: its runs are usage")]
    return None


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$")
_GB_PER_UNIT = {
    None: 1e-9,
    "Ki": 2**10 / 1e9,
    "Mi": 2**20 / 1e9,
    "Gi": 2**30 / 1e9,
    "Ti": 2**40 / 1e9,
    "K": 1e-6,
    "M": 1e-3,
    "G": 1.0,
    "T": 1e3,
}


def _kubernetes(resource: PlannedResource, pricing: _Pricing) -> list[_Part] | None:
    """Kubernetes objects run on the nodes (priced there), except load-balanced Services and volume claims."""
    kind = resource.type.rsplit(":", 1)[-1]
    spec = resource.inputs.get("spec") or {}
    if kind == "Service" and spec.get("type") == "LoadBalancer":
        return [pricing.hourly("load_balancer_hourly", 1, "load balancer")]
    if kind == "PersistentVolumeClaim":
        requested = str(((spec.get("resources") or {}).get("requests") or {}).get("storage", ""))
        match = _QUANTITY.match(requested)
        if not match:
            raise Unpriced(f"storage request {requested!r} is not a Kubernetes quantity")
        size_gb = float(match.group(1)) * _GB_PER_UNIT[match.group(2)]
        price, notes = pricing.service("ebs_gp3_gb_month")
        return [_Part(size_gb * price.usd, f"{size_gb:g} GB gp3 x ${price.usd:g} (storage class assumed gp3)", notes)]
    return None


def _instance(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    return [pricing.instances("ec2", resource.inputs.get("instanceType") or "?", 1)]


def _load_balancer(resource: PlannedResource, pricing: _Pricing) -> list[_Part]:
    return [pricing.hourly("load_balancer_hourly", 1, "load balancer")]


PRICERS: dict[str, Pricer] = {
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _endpoint_configuration,
    "aws:kms/key:Key": _kms_key,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _fixed("cloudwatch_alarm_monthly", "alarm"),
    "aws:cloudwatch/dashboard:Dashboard": _fixed("cloudwatch_dashboard_monthly", "dashboard"),
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": _mlflow,
    "aws:sagemaker/monitoringSchedule:MonitoringSchedule": _monitoring_schedule,
    "aws:cloudcontrol/resource:Resource": _cloud_control,
    "aws:ecr/repository:Repository": _repository,
    "aws:secretsmanager/secret:Secret": _fixed("secrets_manager_secret_monthly", "secret"),
    "aws:ec2/instance:Instance": _instance,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:cloudtrail/trail:Trail": _trail,
    "aws:sagemaker/featureGroup:FeatureGroup": _feature_group,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _replication,
}
"""Pricing function per resource type token. Karpenter NodePools (any karpenter.sh version) match `NODEPOOL`;
every other `kubernetes:` type goes through `_kubernetes`."""


def _pricer(type_: str) -> Pricer | None:
    if type_ in PRICERS:
        return PRICERS[type_]
    if NODEPOOL.match(type_):
        return _node_pool
    return _kubernetes if type_.startswith("kubernetes:") else None


def plan_region(plan: Plan) -> str:
    """The region of the plan's AWS provider (the default region when it has none)."""
    for resource in plan.resources:
        if resource.type == "pulumi:providers:aws" and resource.inputs.get("region"):
            return str(resource.inputs["region"])
    return DEFAULT_REGION


def estimate(plan: Plan, prices: PriceTable | None = None) -> Estimate:
    """The plan's idle monthly cost, line by line."""
    region = plan_region(plan)
    notes: list[str] = []
    if prices is None:
        try:
            prices = load_prices(region)
        except FileNotFoundError:
            prices = load_prices(DEFAULT_REGION)
            notes.append(f"no price table for {region}: {DEFAULT_REGION} prices used")
    pricing = _Pricing(prices, plan)
    result = Estimate(stack=plan.stack, region=region, as_of=prices.as_of, lines=[], notes=notes)
    for resource in plan.resources:
        if not resource.custom or resource.type.startswith("pulumi:providers:"):
            continue  # components and providers are not cloud resources
        pricer = _pricer(resource.type)
        if pricer is None:
            if resource.type in prices.free_types:
                result.free += 1
            else:
                result.not_priced.append((resource.type, resource.name, "type not in the price table"))
            continue
        try:
            parts = pricer(resource, pricing)
        except Unpriced as exc:
            result.not_priced.append((resource.type, resource.name, str(exc)))
            continue
        if parts is None:
            result.free += 1
            continue
        result.lines.append(
            Line(
                type=resource.type,
                name=resource.name,
                monthly_usd=sum(p.usd for p in parts),
                basis=" + ".join(p.text for p in parts),
                assumptions=tuple(dict.fromkeys(a for p in parts for a in p.assumptions)),
            )
        )
    result.lines.sort(key=lambda line: (-line.monthly_usd, line.key))
    return result


@dataclass(frozen=True)
class Change:
    """One line that differs from the baseline (added, removed or re-priced)."""

    type: str
    name: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float:
        """USD per month, positive when the change costs more."""
        return round((self.after or 0.0) - (self.before or 0.0), 2)


@dataclass(frozen=True)
class Delta:
    """The estimate against a baseline estimate (e.g. main's plan)."""

    baseline_total: float
    total: float
    changes: list[Change]

    @property
    def delta(self) -> float:
        """Change of the monthly total, USD."""
        return round(self.total - self.baseline_total, 2)


def compare(current: Estimate, baseline: Estimate) -> Delta:
    """Per-line differences of `current` against `baseline`, largest change first."""
    before = {line.key: line for line in baseline.lines}
    after = {line.key: line for line in current.lines}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        old_usd = round(old.monthly_usd, 2) if old else None
        new_usd = round(new.monthly_usd, 2) if new else None
        if old_usd != new_usd:
            line = new or old
            assert line is not None
            changes.append(Change(line.type, line.name, old_usd, new_usd))
    changes.sort(key=lambda c: (-abs(c.delta), c.type, c.name))
    return Delta(baseline_total=baseline.total, total=current.total, changes=changes)


def plan_from_dict(data: dict[str, Any]) -> Plan:
    """A `Plan` back from `Plan.to_dict()` (what `preview --json` writes)."""
    resources = [PlannedResource(**resource) for resource in data["resources"]]
    return Plan(project=data["project"], stack=data["stack"], resources=resources, outputs=data.get("outputs", {}))


def load_plan(path: Path) -> Plan:
    """A plan JSON file written by `mlops-platform preview --json`."""
    return plan_from_dict(json.loads(path.read_text()))


def usd(value: float) -> str:
    """`$1,234.56`."""
    return f"${value:,.2f}"


def signed_usd(value: float) -> str:
    """`+$12.00` / `-$3.50` / `±$0.00`."""
    if abs(value) < 0.005:
        return "±$0.00"
    return f"{'+' if value > 0 else '-'}{usd(abs(value))}"


def headline(result: Estimate, delta: Delta | None = None) -> str:
    """One line: total, and the change against the baseline when there is one."""
    text = f"{usd(result.total)}/month idle estimate for stack {result.stack}"
    if delta is not None:
        text += f" ({signed_usd(delta.delta)} against the baseline's {usd(delta.baseline_total)})"
    return text


def _scope(result: Estimate) -> str:
    return (
        f"On-demand {result.region} prices as of {result.as_of.isoformat()} (infra/prices/); idle: GPU pools and "
        "endpoints at their minimum, usage at the table's stated volumes."
    )


def markdown(result: Estimate, delta: Delta | None = None) -> str:
    """The pull-request section: total, change against the baseline, breakdown, assumptions, not priced."""
    lines = [f"#### Monthly cost: {headline(result, delta)}", "", _scope(result), ""]
    if delta is not None:
        lines += ["| change | type | before | after | Δ $/month |", "|---|---|---:|---:|---:|"]
        lines += [
            f"| `{c.name}` | `{c.type}` | {usd(c.before) if c.before is not None else 'new'} | "
            f"{usd(c.after) if c.after is not None else 'removed'} | {signed_usd(c.delta)} |"
            for c in delta.changes
        ] or ["| (no line changed) | | | | |"]
        lines.append("")
    lines += [
        "<details><summary>Breakdown</summary>",
        "",
        "| resource | type | $/month | basis |",
        "|---|---|---:|---|",
    ]
    lines += [f"| `{line.name}` | `{line.type}` | {usd(line.monthly_usd)} | {line.basis} |" for line in result.lines]
    lines += ["", f"{result.free} resources of types that cost nothing by themselves are not listed.", ""]
    if result.not_priced:
        lines += ["**Not priced:**", ""] + [f"- `{n}` (`{t}`): {why}" for t, n, why in result.not_priced] + [""]
    if result.assumptions or result.notes:
        lines += ["**Assumptions:**", ""] + [f"- {a}" for a in [*result.notes, *result.assumptions]] + [""]
    lines.append("</details>")
    return "\n".join(lines) + "\n"


def summary_renderables(result: Estimate, delta: Delta | None = None) -> Iterable[Any]:
    """The preview's short version: cost per resource type, what was not priced, and the headline."""
    from rich.table import Table

    table = Table(title="Monthly cost by type (idle)", show_edge=False)
    table.add_column("type")
    table.add_column("count", justify="right")
    table.add_column("$/month", justify="right")
    for type_, count, total in result.by_type():
        table.add_row(type_, str(count), usd(total))
    yield table
    for type_, name, why in result.not_priced:
        yield f"[yellow]not priced:[/] {name} ({type_}): {why}"
    yield headline(result, delta) + " [dim](details: mlops-platform cost)[/]"


def rich_renderables(result: Estimate, delta: Delta | None = None) -> Iterable[Any]:
    """Rich objects for the terminal: the breakdown table, the changes, and what was not priced."""
    from rich.table import Table

    table = Table(
        title=f"Monthly cost (idle), stack {result.stack}",
        show_edge=False,
        caption=_scope(result),
        caption_justify="left",
    )
    table.add_column("resource")
    table.add_column("type")
    table.add_column("$/month", justify="right")
    table.add_column("basis", overflow="fold")
    for line in result.lines:
        table.add_row(line.name, line.type.split(":")[-1], usd(line.monthly_usd), line.basis)
    table.add_section()
    table.add_row("[bold]total[/]", "", f"[bold]{usd(result.total)}[/]", f"{result.free} free resources not listed")
    yield table
    if delta is not None:
        changes = Table(
            title=f"Against the baseline ({usd(delta.baseline_total)}): {signed_usd(delta.delta)}", show_edge=False
        )
        for column in ("resource", "type", "before", "after", "Δ"):
            changes.add_column(column, justify="left" if column in ("resource", "type") else "right")
        for change in delta.changes:
            changes.add_row(
                change.name,
                change.type.split(":")[-1],
                usd(change.before) if change.before is not None else "new",
                usd(change.after) if change.after is not None else "removed",
                signed_usd(change.delta),
            )
        yield changes
    for type_, name, why in result.not_priced:
        yield f"[yellow]not priced:[/] {name} ({type_}): {why}"
    yield headline(result, delta)
