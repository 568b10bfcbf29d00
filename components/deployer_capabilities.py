"""The CI deployer's permissions for each capability beyond storage and access, one managed policy each.

Attribute-based: a resource may be created only when the request tags it with the environment's `env`
(the provider's default tags do), and changed or deleted only when it carries that tag. Reads use the
services' Describe/List/Get verbs. Where a service names resources predictably, the prefix scopes them too.

Tagging never brings a foreign resource into the environment: tag actions are allowed on resources named with the
environment's prefix (log groups, EKS, queues, rules, topics, repositories), on EC2 resources only at creation
(`ec2:CreateAction`) or when already tagged, on SageMaker resources only at creation (`sagemaker:TaggingAction`)
or when already tagged; `components.deployer.tag_hijack_denies` backs this with explicit denies.
"""

from dataclasses import dataclass

from . import _iam


@dataclass(frozen=True)
class Environment:
    """Where the deployer works."""

    account_id: str
    region: str
    name_prefix: str
    environment: str
    """Value of the `env` tag."""

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this account (and region, unless the service is global)."""
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account_id}:{resource}"


def _tagged(sid: str, env: Environment, create: list[str], manage: list[str], resources) -> list[_iam.Statement]:
    return [
        {"Sid": f"Create{sid}", "Effect": "Allow", "Action": create, "Resource": resources,
         "Condition": {"StringEquals": {"aws:RequestTag/env": env.environment}}},
        {"Sid": f"Manage{sid}", "Effect": "Allow", "Action": manage, "Resource": resources,
         "Condition": {"StringEquals": {"aws:ResourceTag/env": env.environment}}},
    ]  # fmt: skip


def _service_linked_roles(env: Environment, *services: str) -> _iam.Statement:
    return {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
            "Resource": f"arn:aws:iam::{env.account_id}:role/aws-service-role/*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": list(services)}}}  # fmt: skip


EC2_CREATE = [
    "ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateInternetGateway", "ec2:AllocateAddress",
    "ec2:CreateNatGateway", "ec2:CreateVpcEndpoint", "ec2:CreateSecurityGroup", "ec2:CreateFlowLogs",
    "ec2:CreateLaunchTemplate", "ec2:CreatePlacementGroup",
]  # fmt: skip
EC2_MANAGE = [
    "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
    "ec2:DeleteRouteTable", "ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute", "ec2:AssociateRouteTable",
    "ec2:DisassociateRouteTable", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
    "ec2:DeleteInternetGateway", "ec2:ReleaseAddress", "ec2:DisassociateAddress", "ec2:DeleteNatGateway",
    "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:DeleteSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress", "ec2:ModifySecurityGroupRules", "ec2:DeleteFlowLogs",
    "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate",
    "ec2:DeletePlacementGroup", "ec2:CreateTags", "ec2:DeleteTags",
]  # fmt: skip
LOG_GROUP_CREATE = ["logs:CreateLogGroup", "logs:TagResource"]
"""On the env's log groups only (`log_group_arns`): CloudWatch Logs has no tag-on-create condition."""
LOG_GROUP_MANAGE = [
    "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey",
    "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
]  # fmt: skip


def log_group_arns(env: Environment) -> list[str]:
    """The environment's log groups (flow logs, EKS control plane), by name; `:*` covers their streams."""
    prefix = env.name_prefix
    return [env.arn("logs", f"log-group:/aws/vpc/{prefix}/*"), env.arn("logs", f"log-group:/aws/eks/{prefix}-*")]


def eks_arns(env: Environment) -> list[str]:
    """The environment's EKS resources: clusters named `<prefix>-*` and what belongs to them."""
    kinds = ("cluster", "nodegroup", "addon", "access-entry", "podidentityassociation")
    return [env.arn("eks", f"{kind}/{env.name_prefix}-*") for kind in kinds]


def network_statements(env: Environment) -> list[_iam.Statement]:
    """VPC, subnets, routing, NAT, endpoints, security groups, flow logs and their log group."""
    return [
        *_tagged("EnvNetwork", env, EC2_CREATE, EC2_MANAGE, "*"),
        {"Sid": "TagOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
         "Condition": {"StringEquals": {"ec2:CreateAction": EC2_CREATE, "aws:RequestTag/env": env.environment}}},
        *_tagged("EnvLogGroups", env, LOG_GROUP_CREATE, LOG_GROUP_MANAGE, log_group_arns(env)),
        {"Sid": "ReadNetwork", "Effect": "Allow", "Resource": "*",
         "Action": ["ec2:Describe*", "ec2:GetManagedPrefixListEntries", "logs:DescribeLogGroups",
                    "logs:ListTagsForResource"]},
    ]  # fmt: skip


EKS_CREATE = [
    "eks:CreateCluster", "eks:CreateNodegroup", "eks:CreateAddon", "eks:CreateAccessEntry",
    "eks:CreatePodIdentityAssociation",
]  # fmt: skip
"""EKS creations (CreateCluster is authorized on "*" only); tagging is separate, on the env's names."""
EKS_MANAGE = [
    "eks:DeleteCluster", "eks:UpdateClusterConfig", "eks:UpdateClusterVersion", "eks:DeleteNodegroup",
    "eks:UpdateNodegroupConfig", "eks:UpdateNodegroupVersion", "eks:DeleteAddon", "eks:UpdateAddon",
    "eks:DeleteAccessEntry", "eks:UpdateAccessEntry", "eks:AssociateAccessPolicy", "eks:DisassociateAccessPolicy",
    "eks:DeletePodIdentityAssociation", "eks:UpdatePodIdentityAssociation", "eks:TagResource",
    "eks:UntagResource",
]  # fmt: skip
QUEUE_MANAGE = ["sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"]
RULE_MANAGE = ["events:DeleteRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource",
               "events:UntagResource", "events:EnableRule", "events:DisableRule"]  # fmt: skip


def training_statements(env: Environment) -> list[_iam.Statement]:
    """The EKS cluster, node groups, add-ons, access entries, Pod Identity, Karpenter's queue and rules."""
    prefix = env.name_prefix
    return [
        {"Sid": "CreateEnvCluster", "Effect": "Allow", "Action": EKS_CREATE, "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/env": env.environment}}},
        {"Sid": "TagEnvClusterOnCreate", "Effect": "Allow", "Action": "eks:TagResource", "Resource": eks_arns(env),
         "Condition": {"StringEquals": {"aws:RequestTag/env": env.environment}}},
        {"Sid": "ManageEnvCluster", "Effect": "Allow", "Action": EKS_MANAGE, "Resource": eks_arns(env),
         "Condition": {"StringEquals": {"aws:ResourceTag/env": env.environment}}},
        *_tagged("EnvInterruptionQueue", env, ["sqs:CreateQueue", "sqs:TagQueue"], QUEUE_MANAGE,
                 env.arn("sqs", f"{prefix}-*")),
        *_tagged("EnvEventRules", env, ["events:PutRule", "events:TagResource"], RULE_MANAGE,
                 env.arn("events", f"rule/{prefix}-*")),
        {"Sid": "ReadCluster", "Effect": "Allow", "Resource": "*",
         "Action": ["eks:Describe*", "eks:List*", "sqs:GetQueueAttributes", "sqs:ListQueueTags",
                    "events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"]},
        {"Sid": "ReadEksAmiParameters", "Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"],
         "Resource": f"arn:aws:ssm:{env.region}::parameter/aws/service/*"},
        {"Sid": "EnvKeyGrantsForClusterVolumes", "Effect": "Allow", "Action": ["kms:CreateGrant", "kms:DescribeKey"],
         "Resource": env.arn("kms", "key/*"),
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"},
                       "StringEquals": {"aws:ResourceTag/env": env.environment}}},
        _service_linked_roles(env, "eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "autoscaling.amazonaws.com",
                              "spot.amazonaws.com"),
    ]  # fmt: skip


ECR_MANAGE = [
    "ecr:DeleteRepository", "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:SetRepositoryPolicy",
    "ecr:DeleteRepositoryPolicy", "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
    "ecr:TagResource", "ecr:UntagResource",
]  # fmt: skip
REGISTRY_CREATE = ["sagemaker:CreateModelPackageGroup", "sagemaker:CreateMlflowTrackingServer"]
REGISTRY_MANAGE = [
    "sagemaker:DeleteModelPackageGroup", "sagemaker:PutModelPackageGroupPolicy",
    "sagemaker:DeleteModelPackageGroupPolicy", "sagemaker:UpdateMlflowTrackingServer",
    "sagemaker:DeleteMlflowTrackingServer", "sagemaker:StartMlflowTrackingServer",
    "sagemaker:StopMlflowTrackingServer", "sagemaker:AddTags", "sagemaker:DeleteTags",
]  # fmt: skip


def sagemaker_tag_on_create(env: Environment, creates: list[str], resources, *, sid: str) -> _iam.Statement:
    """`sagemaker:AddTags` only as part of one of `creates` (the request's tags carrying the env)."""
    return {"Sid": sid, "Effect": "Allow", "Action": "sagemaker:AddTags", "Resource": resources,
            "Condition": {"StringEquals": {"aws:RequestTag/env": env.environment,
                                           "sagemaker:TaggingAction": [a.split(":")[1] for a in creates]}}}  # fmt: skip


def registry_statements(env: Environment) -> list[_iam.Statement]:
    """ECR repositories under `<prefix>/`, model package groups and the MLflow tracking server."""
    sagemaker = [env.arn("sagemaker", "model-package-group/*"), env.arn("sagemaker", "mlflow-tracking-server/*")]
    return [
        *_tagged("EnvRepositories", env, ["ecr:CreateRepository", "ecr:TagResource"], ECR_MANAGE,
                 env.arn("ecr", f"repository/{env.name_prefix}/*")),
        *_tagged("EnvRegistries", env, REGISTRY_CREATE, REGISTRY_MANAGE, sagemaker),
        sagemaker_tag_on_create(env, REGISTRY_CREATE, sagemaker, sid="TagEnvRegistriesOnCreate"),
        {"Sid": "ReadRegistries", "Effect": "Allow", "Resource": "*",
         "Action": ["ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy",
                    "ecr:ListTagsForResource", "sagemaker:DescribeModelPackageGroup",
                    "sagemaker:GetModelPackageGroupPolicy", "sagemaker:DescribeMlflowTrackingServer",
                    "sagemaker:ListTags"]},
        _service_linked_roles(env, "sagemaker.amazonaws.com"),
    ]  # fmt: skip


TOPIC_MANAGE = [
    "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "sns:UntagResource",
]  # fmt: skip


def monitoring_statements(env: Environment) -> list[_iam.Statement]:
    """The alert topic and its subscriptions, the dashboard and the budgets."""
    prefix = env.name_prefix
    return [
        *_tagged("EnvAlertTopic", env, ["sns:CreateTopic", "sns:TagResource"], TOPIC_MANAGE,
                 env.arn("sns", f"{prefix}-*")),
        {"Sid": "ManageEnvSubscriptions", "Effect": "Allow",
         "Action": ["sns:Unsubscribe", "sns:SetSubscriptionAttributes", "sns:GetSubscriptionAttributes"],
         "Resource": env.arn("sns", f"{prefix}-*:*")},
        {"Sid": "ManageEnvDashboard", "Effect": "Allow",
         "Action": ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard"],
         "Resource": f"arn:aws:cloudwatch::{env.account_id}:dashboard/{prefix}*"},
        {"Sid": "ManageEnvBudgets", "Effect": "Allow",
         "Action": ["budgets:ModifyBudget", "budgets:ViewBudget", "budgets:TagResource", "budgets:UntagResource",
                    "budgets:ListTagsForResource"],
         "Resource": f"arn:aws:budgets::{env.account_id}:budget/{prefix}-*"},
        {"Sid": "ReadAlerts", "Effect": "Allow", "Resource": "*",
         "Action": ["sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:ListSubscriptionsByTopic"]},
    ]  # fmt: skip
