"""The monthly cost estimate: the price table, each resource type's pricing, the pinned fixture figure,
the delta against a baseline, idle scale-to-zero pools, the CLI, and the dev target."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
import yaml
from mlops_platform.infra.tooling import cli, cost
from mlops_platform.infra.tooling.offline import Plan, PlannedResource

from tests.conftest import REPO, STACKS, plan_for

FIXTURE = REPO / "tests" / "fixtures" / "cost-plan.json"
HOURS = 730
DEV_TARGET_USD = 150.0


def fixture_plan() -> Plan:
    return cost.load_plan(FIXTURE)


def one(type_: str, inputs: dict, name: str = "r") -> Plan:
    """A plan holding one resource (and the provider that sets the region)."""
    provider = PlannedResource("urn:p", "pulumi:providers:aws", "aws", None, True, None, {"region": "us-east-1"}, {})
    resource = PlannedResource(f"urn:{name}", type_, name, None, True, "aws", inputs, {})
    return Plan(project="mlops-platform", stack="unit", resources=[provider, resource])


def line(plan: Plan) -> cost.Line:
    [only] = cost.estimate(plan).lines
    return only


# --- the price table -----------------------------------------------------------------------------------------


def test_price_table_is_dated_and_every_unconfirmed_price_says_why():
    table = cost.load_prices("us-east-1")
    assert isinstance(table.as_of, date) and table.as_of.year >= 2026
    assert table.sources, "the table names its sources"
    raw = yaml.safe_load((cost.PRICES_DIR / "us-east-1.yaml").read_text())
    for section in ("ec2_instance_hourly", "sagemaker_instance_hourly", "services"):
        for key, value in raw[section].items():
            assert isinstance(value, int | float) or value["assumption"].strip(), f"{section}.{key}"


def test_price_table_covers_the_instance_types_the_platform_offers():
    table = cost.load_prices("us-east-1")
    for instance_type in ("g5.xlarge", "g6.xlarge", "p4d.24xlarge", "p5.48xlarge", "m6i.large", "m7i.large"):
        assert instance_type in table.ec2_instance_hourly
    assert all(name.startswith("ml.") for name in table.sagemaker_instance_hourly)


def test_free_types_and_priced_types_do_not_overlap():
    assert cost.load_prices().free_types.isdisjoint(cost.PRICERS)


def test_a_typo_in_the_price_table_is_rejected(tmp_path):
    raw = yaml.safe_load((cost.PRICES_DIR / "us-east-1.yaml").read_text())
    raw["services"]["nat_gateway_hourli"] = raw["services"].pop("nat_gateway_hourly")
    (tmp_path / "us-east-1.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError, match="nat_gateway_hourl"):
        cost.load_prices("us-east-1", tmp_path)


# --- the pinned fixture ----------------------------------------------------------------------------------------


def test_fixture_plan_estimate_is_pinned():
    # Worked by hand from infra/prices/us-east-1.yaml (730 h/month). A price-table edit changes this on purpose.
    expected = {
        "eks-system": 2 * 0.1008 * HOURS + 2 * 30 * 0.08,  # m7i.large at desiredSize 2, 30 GB gp3 each
        "serving-config": 1 * 0.115 * HOURS,  # ml.m5.large at managedInstanceScaling.minInstanceCount 1
        "eks-cluster": 0.10 * HOURS,
        "net-nat-0": 0.045 * HOURS + 50 * 0.045,  # + 50 GB processed (usage assumption)
        "net-sts": 2 * 0.01 * HOURS + 5 * 0.01,  # interface endpoint in 2 AZs + 5 GB
        "net-nat-0-eip": 0.005 * HOURS,
        "data-key": 1.00,
        "flow-logs": 1 * 0.50 + 1 * 0.03,  # 1 GB ingested, 30-day retention keeps 1 GB
        "raw-bucket": 20 * 0.023,
        "eks-gpu": 0.0,  # GPU node group idles at minSize 0
        "eks-gpu-pool": 0.0,  # Karpenter pool scales to zero
    }
    result = cost.estimate(fixture_plan())
    assert {item.name: round(item.monthly_usd, 2) for item in result.lines} == {
        name: round(usd, 2) for name, usd in expected.items()
    }
    assert result.total == 364.31 == round(sum(expected.values()), 2)
    assert result.not_priced == [("aws:dynamodb/table:Table", "locks", "type not in the price table")]
    assert result.free == 3  # vpc, IAM role, S3 gateway endpoint; the component and provider are not resources


def test_lines_say_how_they_were_computed_and_which_assumptions_they_used():
    result = cost.estimate(fixture_plan())
    nat = next(item for item in result.lines if item.name == "net-nat-0")
    assert nat.basis == "1 NAT gateway x 730 h x $0.045 + 50 GB processed x $0.045"
    assert nat.assumptions == ("usage nat_gb_per_month = 50",)
    assert "usage s3_gb_per_bucket = 20" in result.assumptions


# --- per resource type ----------------------------------------------------------------------------------------


def test_idle_gpu_pools_count_zero():
    gpu_group = one(
        "aws:eks/nodeGroup:NodeGroup",
        {"instanceTypes": ["p5.48xlarge"], "scalingConfig": {"minSize": 0, "desiredSize": 2, "maxSize": 2}},
    )
    assert line(gpu_group).monthly_usd == 0.0
    pool = one("kubernetes:karpenter.sh/v1:NodePool", {"spec": {"limits": {"nvidia.com/gpu": 16}}})
    assert line(pool).monthly_usd == 0.0
    assert "0 nodes when idle" in line(pool).basis and "nvidia.com/gpu 16" in line(pool).basis


def test_an_accelerated_ami_marks_a_group_as_gpu_whatever_its_type():
    group = one(
        "aws:eks/nodeGroup:NodeGroup",
        {
            "instanceTypes": ["m7i.large"],
            "amiType": "AL2023_x86_64_NVIDIA",
            "scalingConfig": {"minSize": 0.0, "desiredSize": 2.0},
        },
    )
    assert line(group).monthly_usd == 0.0


def test_a_gpu_group_with_a_warm_minimum_is_charged_for_it():
    warm = one(
        "aws:eks/nodeGroup:NodeGroup",
        {"instanceTypes": ["g6.xlarge"], "diskSize": 100, "scalingConfig": {"minSize": 1, "desiredSize": 1}},
    )
    assert line(warm).monthly_usd == pytest.approx(0.8048 * HOURS + 100 * 0.08)


def test_cpu_node_groups_run_at_desired_size_with_the_default_disk():
    group = one(
        "aws:eks/nodeGroup:NodeGroup",
        {"instanceTypes": ["m6i.large"], "scalingConfig": {"minSize": 1, "desiredSize": 3}},
    )
    assert line(group).monthly_usd == pytest.approx(3 * 0.096 * HOURS + 3 * 20 * 0.08)


def test_endpoints_count_at_their_minimum_and_serverless_idles_at_zero():
    scaled_down = one(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {
            "productionVariants": [
                {
                    "variantName": "a",
                    "instanceType": "ml.g5.xlarge",
                    "initialInstanceCount": 3,
                    "managedInstanceScaling": {"status": "ENABLED", "minInstanceCount": 0},
                }
            ]
        },
    )
    assert line(scaled_down).monthly_usd == 0.0
    fixed = one(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {
            "productionVariants": [
                {"variantName": "a", "instanceType": "ml.g5.xlarge", "initialInstanceCount": 2, "volumeSizeInGb": 50}
            ]
        },
    )
    assert line(fixed).monthly_usd == pytest.approx(2 * 1.408 * HOURS + 2 * 50 * 0.14)
    serverless = one(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {
            "productionVariants": [
                {"variantName": "s", "serverlessConfig": {"memorySizeInMb": 4096, "maxConcurrency": 10}}
            ]
        },
    )
    assert line(serverless).monthly_usd == 0.0
    provisioned = one(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        {
            "productionVariants": [
                {"variantName": "s", "serverlessConfig": {"memorySizeInMb": 2048, "provisionedConcurrency": 2}}
            ]
        },
    )
    assert line(provisioned).monthly_usd == pytest.approx(2 * 2 * HOURS * 3600 * 0.0000048)


def test_endpoints_count_at_their_autoscaling_or_scheduled_minimum():
    def resource(type_: str, name: str, inputs: dict) -> PlannedResource:
        return PlannedResource(f"urn:{name}", type_, name, "urn:component", True, "aws", inputs, {})

    config = resource(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "churn-config",
        {
            "productionVariants": [
                {"variantName": "primary", "instanceType": "ml.m5.large", "initialInstanceCount": 3},
                {"variantName": "canary", "instanceType": "ml.m5.large", "initialInstanceCount": 1},
            ]
        },
    )
    endpoint = resource(
        "aws:sagemaker/endpoint:Endpoint",
        "churn-endpoint",
        {"name": "p-dev-churn", "endpointConfigName": "churn-config-1a2b3c4"},
    )  # auto-named config
    target = resource(
        "aws:appautoscaling/target:Target",
        "churn-scaling",
        {"resourceId": "endpoint/p-dev-churn/variant/primary", "minCapacity": 2, "maxCapacity": 6},
    )
    night = resource(
        "aws:appautoscaling/scheduledAction:ScheduledAction",
        "churn-night",
        {
            "resourceId": "endpoint/p-dev-churn/variant/primary",
            "schedule": "cron(0 20 * * ? *)",
            "scalableTargetAction": {"minCapacity": 1, "maxCapacity": 1},
        },
    )
    other = resource(
        "aws:appautoscaling/target:Target",
        "other-scaling",
        {"resourceId": "endpoint/someone-else/variant/primary", "minCapacity": 0},
    )
    plan = Plan("mlops-platform", "unit", [config, endpoint, target, night, other])

    assert cost.endpoint_floors(plan) == {("churn-config", "primary"): (1, "scheduled minCapacity, cron(0 20 * * ? *)")}
    [priced] = cost.estimate(plan).lines
    assert priced.monthly_usd == pytest.approx((1 + 1) * 0.115 * HOURS)  # primary at its floor 1, canary at 1
    assert "primary: 1 x ml.m5.large" in priced.basis and "(scheduled minCapacity" in priced.basis
    plan.resources.remove(night)
    assert line(plan).monthly_usd == pytest.approx((2 + 1) * 0.115 * HOURS)  # the target's minCapacity governs


def test_interface_endpoints_are_charged_per_az_and_gateway_endpoints_are_free():
    three_azs = one("aws:ec2/vpcEndpoint:VpcEndpoint", {"vpcEndpointType": "Interface", "subnetIds": ["a", "b", "c"]})
    assert line(three_azs).monthly_usd == pytest.approx(3 * 0.01 * HOURS + 5 * 0.01)
    gateway = cost.estimate(one("aws:ec2/vpcEndpoint:VpcEndpoint", {"vpcEndpointType": "Gateway"}))
    assert (gateway.lines, gateway.free) == ([], 1)


def test_eks_extended_support_costs_six_times_standard():
    standard = line(one("aws:eks/cluster:Cluster", {}))
    extended = line(one("aws:eks/cluster:Cluster", {"upgradePolicy": {"supportType": "EXTENDED"}}))
    assert (standard.monthly_usd, extended.monthly_usd) == pytest.approx((73.0, 438.0))


def test_unknown_instance_types_and_types_are_listed_not_guessed():
    result = cost.estimate(
        one(
            "aws:eks/nodeGroup:NodeGroup",
            {"instanceTypes": ["x9.huge"], "scalingConfig": {"desiredSize": 1}},
            name="odd",
        )
    )
    assert result.lines == []
    assert result.not_priced == [("aws:eks/nodeGroup:NodeGroup", "odd", "no ec2 price for instance type 'x9.huge'")]
    assert "`odd` (`aws:eks/nodeGroup:NodeGroup`): no ec2 price" in cost.markdown(result)


def test_components_and_providers_are_not_resources():
    result = cost.estimate(fixture_plan())
    names = {item.name for item in result.lines} | {n for _, n, _ in result.not_priced}
    assert "net" not in names and "aws" not in names


# --- delta against a baseline ---------------------------------------------------------------------------------


def test_delta_against_a_baseline_plan():
    current = fixture_plan()
    data = json.loads(FIXTURE.read_text())
    baseline_data = copy.deepcopy(data)
    dropped = ("net-nat-0", "net-nat-0-eip")
    baseline_data["resources"] = [r for r in baseline_data["resources"] if r["name"] not in dropped]
    system = next(r for r in baseline_data["resources"] if r["name"] == "eks-system")
    system["inputs"]["scalingConfig"]["desiredSize"] = 1
    baseline = cost.plan_from_dict(baseline_data)

    delta = cost.compare(cost.estimate(current), cost.estimate(baseline))
    by_name = {c.name: c for c in delta.changes}
    assert set(by_name) == {"net-nat-0", "net-nat-0-eip", "eks-system"}
    assert (by_name["net-nat-0"].before, by_name["net-nat-0"].after) == (None, 35.1)
    assert by_name["eks-system"].delta == pytest.approx(0.1008 * HOURS + 30 * 0.08, abs=0.01)  # one node fewer
    # baseline by hand: 75.984 (1 node) + 83.95 + 73 + 14.65 + 1 + 0.53 + 0.46
    assert (delta.baseline_total, delta.total, delta.delta) == (249.57, 364.31, 114.74)
    assert delta.changes[0].name == "eks-system"  # largest change first
    assert "+$114.74 against the baseline's $249.57" in cost.markdown(cost.estimate(current), delta)


def test_no_change_against_itself():
    result = cost.estimate(fixture_plan())
    delta = cost.compare(result, result)
    assert (delta.delta, delta.changes) == (0.0, [])
    assert "(no line changed)" in cost.markdown(result, delta)


def test_plan_json_round_trip_keeps_the_estimate(tmp_path):
    plan = plan_for("dev")
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json())
    assert cost.estimate(cost.load_plan(path)).to_dict() == cost.estimate(plan).to_dict()


# --- the stacks and the CLI -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_resource_is_priced_or_known_free(stack):
    result = cost.estimate(plan_for(stack))
    assert result.not_priced == [], "price these in infra/cost.py PRICERS, or list free types in the price table"
    assert result.total > 0


def test_dev_idles_within_the_target():
    """Issue target: the dev stack idles at $150/month at most (GPU pools at zero, no MLflow server)."""
    result = cost.estimate(plan_for("dev"))
    top = ", ".join(f"{item.name} {cost.usd(item.monthly_usd)}" for item in result.lines[:5])
    assert result.total <= DEV_TARGET_USD, f"dev idles at {cost.usd(result.total)}/month; largest: {top}"


def test_kubernetes_objects_are_free_except_load_balancers_and_volume_claims():
    assert cost.estimate(one("kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue", {"spec": {}})).free == 1
    assert cost.estimate(one("kubernetes:core/v1:Service", {"spec": {"type": "ClusterIP"}})).free == 1
    balanced = one("kubernetes:core/v1:Service", {"spec": {"type": "LoadBalancer"}})
    assert line(balanced).monthly_usd == pytest.approx(0.0225 * HOURS)

    def claim(storage: str) -> Plan:
        spec = {"resources": {"requests": {"storage": storage}}}
        return one("kubernetes:core/v1:PersistentVolumeClaim", {"spec": spec})

    assert line(claim("100G")).monthly_usd == pytest.approx(100 * 0.08)
    assert line(claim("1Ti")).monthly_usd == pytest.approx(2**40 / 1e9 * 0.08)
    odd = cost.estimate(one("kubernetes:core/v1:PersistentVolumeClaim", {"spec": {}}, name="pvc"))
    assert odd.not_priced == [
        ("kubernetes:core/v1:PersistentVolumeClaim", "pvc", "storage request '' is not a Kubernetes quantity")
    ]


def test_mlflow_tracking_servers_and_dashboards_are_priced():
    small = one("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", {"trackingServerName": "x"})
    assert line(small).monthly_usd == pytest.approx(0.642 * HOURS)  # Small is the API default
    medium = one("aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", {"trackingServerSize": "Medium"})
    assert line(medium).monthly_usd == pytest.approx(1.321 * HOURS)
    assert line(one("aws:cloudwatch/dashboard:Dashboard", {"dashboardName": "d"})).monthly_usd == 3.0
    assert cost.estimate(one("aws:budgets/budget:Budget", {"budgetType": "COST"})).free == 1


def test_cost_command_prints_the_breakdown_and_writes_markdown_and_json(tmp_path, capsys):
    baseline = tmp_path / "main-plan.json"
    baseline.write_text(plan_for("dev").to_json())
    md, js = tmp_path / "cost.md", tmp_path / "cost.json"
    assert (
        cli.main(["cost", "--stack", "dev", "--baseline", str(baseline), "--markdown", str(md), "--json", str(js)]) == 0
    )
    out = capsys.readouterr().out
    expected = cost.estimate(plan_for("dev"))
    assert f"{cost.usd(expected.total)}/month idle estimate for stack dev (±$0.00 against" in out
    assert "datalake-raw-bucket" in out
    assert md.read_text().startswith(f"#### Monthly cost: {cost.usd(expected.total)}/month")
    data = json.loads(js.read_text())
    assert (data["total_monthly_usd"], data["delta_monthly_usd"]) == (expected.total, 0.0)


def test_preview_markdown_carries_the_cost_section(tmp_path, capsys):
    md = tmp_path / "preview.md"
    assert cli.main(["preview", "--stack", "staging", "--markdown", str(md)]) == 0
    assert "Monthly cost by type (idle)" in capsys.readouterr().out
    text = md.read_text()
    assert text.index("### Offline preview") < text.index("#### Monthly cost: $")


def test_an_unreadable_baseline_exits_2_naming_the_file(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert cli.main(["cost", "--stack", "dev", "--baseline", str(missing)]) == 2
    assert f"baseline plan {missing}" in capsys.readouterr().err
