"""Preview labels for model endpoints: what a reviewer of a promotion needs to see.

For each endpoint: the model version of every variant and its weight, the shadow variant, the rollout (type,
step, baking), the rollback alarms, the KMS key and the data-capture sampling. Reads only the recorded plan.
"""

from __future__ import annotations

from collections.abc import Callable

from mlops_platform.components.sagemaker_catalog import MODEL_PACKAGE_ARN, has_local_nvme
from mlops_platform.infra.tooling.offline import Plan, PlannedResource

ENDPOINT_COMPONENT = "mlops:serving:ModelEndpoint"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCALING_TARGET = "aws:appautoscaling/target:Target"
SCHEDULED_ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"


def _child(resource: PlannedResource, plan: Plan, type_: str) -> list[PlannedResource]:
    return [r for r in plan.children(resource.urn) if r.type == type_]


def model_label(model: PlannedResource) -> str:
    """`churn-model v12`, or the image and artifact of a container model."""
    container = model.inputs.get("primaryContainer") or {}
    if package := container.get("modelPackageName"):
        match = MODEL_PACKAGE_ARN.match(package)
        return f"{match['group']} v{match['version']}" if match else package
    image = str(container.get("image", "?")).rsplit("/", 1)[-1]
    return f"image {image} + {container.get('modelDataUrl', '?')}"


def _models_by_variant(component: PlannedResource, plan: Plan) -> dict[str, PlannedResource]:
    prefix = f"{component.name}-"
    return {m.name.removeprefix(prefix).removesuffix("-model"): m for m in _child(component, plan, MODEL)}


def variant_labels(config: PlannedResource, models: dict[str, PlannedResource]) -> list[str]:
    """`champion: churn-model v12 90% on 3x ml.c6i.xlarge` per production variant, then the shadow."""
    production = config.inputs.get("productionVariants") or []
    total = sum(float(v.get("initialVariantWeight", 1)) for v in production) or 1.0
    labels = []
    for variant in production:
        name = variant["variantName"]
        share = 100 * float(variant.get("initialVariantWeight", 1)) / total
        labels.append(f"{name}: {_model_of(name, models)} {share:.0f}% on {_capacity(variant)}")
    for variant in config.inputs.get("shadowProductionVariants") or []:
        name = variant["variantName"]
        mirrored = 100 * float(variant.get("initialVariantWeight", 1)) / total
        labels.append(f"shadow {name}: {_model_of(name, models)} mirrors {mirrored:.0f}% on {_capacity(variant)}")
    return labels


def _model_of(variant: str, models: dict[str, PlannedResource]) -> str:
    return model_label(models[variant]) if variant in models else "?"


def _capacity(variant: dict) -> str:
    if serverless := variant.get("serverlessConfig"):
        return f"serverless {serverless['memorySizeInMb']:g} MB x{serverless['maxConcurrency']:g}"
    return f"{variant.get('initialInstanceCount', 1):g}x {variant.get('instanceType', '?')}"


def rollout_label(endpoint: PlannedResource) -> str:
    """`rollout CANARY 25% bake 600s, rollback on 2 alarms`, or why there is none."""
    deployment = endpoint.inputs.get("deploymentConfig")
    if not deployment:
        return "rollout: SageMaker default (no blue/green guardrails, NO ROLLBACK ALARMS)"
    policy = deployment["blueGreenUpdatePolicy"]
    routing = policy["trafficRoutingConfiguration"]
    step = routing.get("canarySize") or routing.get("linearStepSize")
    size = f" {step['value']:g}%" if step else ""
    alarms = (deployment.get("autoRollbackConfiguration") or {}).get("alarms") or []
    rollback = f"rollback on {len(alarms)} alarms" if alarms else "NO ROLLBACK ALARMS"
    return (
        f"rollout {routing['type']}{size} bake {routing['waitIntervalInSeconds']:g}s "
        f"timeout {policy.get('maximumExecutionTimeoutInSeconds', 0):g}s, {rollback}"
    )


def rollback_alarms(endpoint: PlannedResource) -> list[str]:
    """Names of the alarms the deployment config watches."""
    deployment = endpoint.inputs.get("deploymentConfig") or {}
    return [a["alarmName"] for a in (deployment.get("autoRollbackConfiguration") or {}).get("alarms") or []]


def capture_label(config: PlannedResource) -> str:
    """`data capture 10% KMS`, `data capture UNENCRYPTED` or `data capture off`."""
    capture = config.inputs.get("dataCaptureConfig")
    if not capture or not capture.get("enableCapture", True):
        return "data capture off"
    encryption = "KMS" if capture.get("kmsKeyId") else "UNENCRYPTED"
    return f"data capture {capture['initialSamplingPercentage']:g}% {encryption}"


def kms_label(config: PlannedResource) -> str:
    """`KMS 1a2b3c4d` or `NO KMS KEY`."""
    key = config.inputs.get("kmsKeyArn")
    return f"KMS {key.rsplit('/', 1)[-1][:8]}" if key else "NO KMS KEY"


def _component(resource: PlannedResource, plan: Plan) -> list[str]:
    [endpoint] = _child(resource, plan, ENDPOINT) or [None]
    [config] = _child(resource, plan, ENDPOINT_CONFIG) or [None]
    if endpoint is None or config is None:
        return []
    models = _models_by_variant(resource, plan)
    labels = [str(endpoint.inputs.get("name", "?")), *variant_labels(config, models), rollout_label(endpoint)]
    labels += [kms_label(config), capture_label(config)]
    isolated = [m.inputs.get("enableNetworkIsolation") for m in models.values()]
    labels.append("network isolation" if all(isolated) else "NETWORK ISOLATION OFF")
    labels.append("VPC" if all(m.inputs.get("vpcConfig") for m in models.values()) else "NO VPC")
    return labels


def _endpoint(resource: PlannedResource, plan: Plan) -> list[str]:
    return [rollout_label(resource)]


def _endpoint_config(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = [kms_label(resource), capture_label(resource)]
    inputs = resource.inputs
    variants = [*(inputs.get("productionVariants") or []), *(inputs.get("shadowProductionVariants") or [])]
    if any(has_local_nvme(v.get("instanceType", "")) for v in variants):
        labels.append("local NVMe: hardware-encrypted, not by the KMS key")
    return labels


def _model(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = [model_label(resource)]
    labels.append("isolated" if resource.inputs.get("enableNetworkIsolation") else "NETWORK ISOLATION OFF")
    labels.append("VPC" if resource.inputs.get("vpcConfig") else "NO VPC")
    return labels


_OPERATORS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _alarm(resource: PlannedResource, plan: Plan) -> list[str]:
    inputs = resource.inputs
    metric = inputs.get("metricName")
    if metric is None:
        queries = inputs.get("metricQueries") or []
        metric = next((q.get("label") for q in queries if q.get("returnData")), None) or "metric math"
    stat = inputs.get("extendedStatistic") or inputs.get("statistic")
    threshold = float(inputs.get("threshold", 0))
    unit = ""
    if metric == "ModelLatency":  # published in microseconds
        threshold, unit = threshold / 1000, " ms"
    operator = _OPERATORS.get(inputs.get("comparisonOperator", ""), "?")
    labels = [" ".join(p for p in (metric, stat, operator, f"{threshold:g}{unit}") if p)]
    labels.append("notifies topic" if resource.inputs.get("alarmActions") else "NO ALARM ACTIONS")
    return labels


def _scaling_target(resource: PlannedResource, plan: Plan) -> list[str]:
    return [f"{resource.inputs.get('minCapacity', 0):g}-{resource.inputs.get('maxCapacity', 0):g} instances"]


def _scheduled_action(resource: PlannedResource, plan: Plan) -> list[str]:
    action = resource.inputs.get("scalableTargetAction") or {}
    return [
        f"{resource.inputs.get('schedule')} {resource.inputs.get('timezone', 'UTC')} -> "
        f"{action.get('minCapacity', 0):g}-{action.get('maxCapacity', 0):g} instances"
    ]


def _egress_rule(resource: PlannedResource, plan: Plan) -> list[str]:
    inputs = resource.inputs
    target = inputs.get("cidrIpv4") or inputs.get("prefixListId") or inputs.get("referencedSecurityGroupId") or "?"
    ports = f"{inputs.get('fromPort', 0):g}" if inputs.get("fromPort") == inputs.get("toPort") else "ports"
    return [f"egress {inputs.get('ipProtocol', '?')} {ports} to {target}"]


EXTRACTORS: dict[str, Callable[[PlannedResource, Plan], list[str]]] = {
    ENDPOINT_COMPONENT: _component,
    ENDPOINT: _endpoint,
    ENDPOINT_CONFIG: _endpoint_config,
    MODEL: _model,
    ALARM: _alarm,
    SCALING_TARGET: _scaling_target,
    SCHEDULED_ACTION: _scheduled_action,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _egress_rule,
}
"""Extractors merged into `infra.tooling.report`'s table."""


def markdown_section(plan: Plan) -> list[str]:
    """The pull-request comment's "Model endpoints" table; empty when the stack has no endpoint."""
    components = plan.of_type(ENDPOINT_COMPONENT)
    if not components:
        return []
    lines = [
        "#### Model endpoints",
        "",
        "| endpoint | variants (model, traffic, capacity) | rollout | rollback alarms | KMS | data capture |",
        "|---|---|---|---|---|---|",
    ]
    for component in components:
        [endpoint] = _child(component, plan, ENDPOINT)
        [config] = _child(component, plan, ENDPOINT_CONFIG)
        variants = "<br>".join(variant_labels(config, _models_by_variant(component, plan)))
        alarms = "<br>".join(f"`{a}`" for a in rollback_alarms(endpoint)) or "none"
        rollout = rollout_label(endpoint).split(",")[0]
        lines.append(
            f"| `{endpoint.inputs.get('name')}` | {variants} | {rollout} | {alarms} | "
            f"{kms_label(config)} | {capture_label(config)} |"
        )
    return [*lines, ""]
