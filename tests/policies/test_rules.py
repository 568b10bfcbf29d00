"""Every rule on synthetic resources: at least one compliant and one non-compliant case each (with the
reason it gives), plus not-applicable cases where the rule is tri-state in practice."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from mlops_platform.policies import RULES, Resource, Stack, Status, evaluate

from tests.policies import governance_cases
from tests.policies.builders import KEY_ARN, bucket_stack, document, provider, res, stack

Build = Callable[[], tuple[Resource, Stack]]


def one(type_: str, props: dict | None = None, **kw) -> Build:
    """A case that is a single resource in a stack of its own."""

    def build():
        resource = res(type_, props, **kw)
        return resource, stack(resource, name=kw.get("stack", "dev"))

    return build


def bucket(drop=(), **overrides) -> Build:
    def build():
        st, b = bucket_stack(drop, **overrides)
        return b, st

    return build


ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
KEY = "aws:kms/key:Key"
SG = "aws:ec2/securityGroup:SecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
CLUSTER = "aws:eks/cluster:Cluster"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
REPO = "aws:ecr/repository:Repository"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
OIDC = "token.actions.githubusercontent.com"
ARTIFACTS = "arn:aws:s3:::mlops-platform-dev-artifacts-0000"


def allow(actions, resources, **extra) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def github_trust(condition: dict) -> str:
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::111111111111:oidc-provider/{OIDC}"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }
    )


SERVICE_TRUST = document(
    {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
)
PINNED = {"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": "repo:org/repo:environment:prod"}}


def boundary_case(boundary_doc: str, attach: bool = False) -> Build:
    """A managed policy used as a role's permission boundary (and optionally also attached)."""

    def build():
        boundary = res(POLICY, {"policy": boundary_doc, "arn": "arn:aws:iam::111111111111:policy/b"}, name="boundary")
        role = res(
            ROLE,
            {"assumeRolePolicy": SERVICE_TRUST, "permissionsBoundary": "arn:aws:iam::111111111111:policy/b"},
            deps={"permissionsBoundary": [boundary]},
        )
        extra = (
            [
                res(
                    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                    {"policyArn": "x"},
                    deps={"policyArn": [boundary]},
                )
            ]
            if attach
            else []
        )
        return boundary, stack(boundary, role, *extra)

    return build


def vpc_with(*children: tuple[str, dict]) -> Build:
    def build():
        vpc = res(VPC, {"cidrBlock": "10.40.0.0/16", "enableDnsHostnames": True}, name="vpc")
        others = [
            res(t, {"vpcId": "vpc-id", **p}, name=f"c{i}", deps={"vpcId": [vpc]}) for i, (t, p) in enumerate(children)
        ]
        return vpc, stack(vpc, *others)

    return build


FLOW_LOG = ("aws:ec2/flowLog:FlowLog", {"trafficType": "ALL", "logDestinationType": "cloud-watch-logs"})
CLOSED_DEFAULT_SG = ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {})
S3_ENDPOINT = (
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    {"serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "Gateway"},
)

PRIVATE_CLUSTER = {
    "roleArn": "arn:aws:iam::111111111111:role/cluster",
    "vpcConfig": {"subnetIds": ["subnet-a", "subnet-b"], "endpointPrivateAccess": True, "endpointPublicAccess": False},
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
    "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
}


def cluster(**changes) -> Build:
    return one(CLUSTER, {**PRIVATE_CLUSTER, **changes})


def stateful(stack_name: str, **options) -> Build:
    return one("aws:s3/bucket:Bucket", {"bucketPrefix": "p-"}, stack=stack_name, **options)


PIPELINE = "aws:sagemaker/pipeline:Pipeline"
VPC_CONFIG = {"Subnets": ["subnet-a"], "SecurityGroupIds": ["sg-1"]}


def training_step(name="Train", instance="ml.m5.xlarge", output_key=KEY_ARN, volume_key=KEY_ARN, vpc=VPC_CONFIG):
    return {
        "Name": name,
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://b/models/", **({"KmsKeyId": output_key} if output_key else {})},
            "ResourceConfig": {
                "InstanceType": instance,
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
                **({"VolumeKmsKeyId": volume_key} if volume_key else {}),
            },
            **({"VpcConfig": vpc} if vpc else {}),
        },
    }


def processing_step(name="Prep", output_key=KEY_ARN, volume_key=KEY_ARN, vpc=VPC_CONFIG):
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": {"Get": "Parameters.ProcessingInstance"},
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                    **({"VolumeKmsKeyId": volume_key} if volume_key else {}),
                }
            },
            "ProcessingOutputConfig": {"Outputs": [], **({"KmsKeyId": output_key} if output_key else {})},
            **({"NetworkConfig": {"VpcConfig": vpc}} if vpc else {}),
        },
    }


def pipeline(*steps, parameters=()) -> Build:
    definition = {"Version": "2020-12-01", "Parameters": list(parameters), "Steps": list(steps)}
    return one(PIPELINE, {"pipelineName": "train", "roleArn": "r", "pipelineDefinition": json.dumps(definition)})


def condition(*if_steps) -> dict:
    return {
        "Name": "Gate",
        "Type": "Condition",
        "Arguments": {"Conditions": [], "IfSteps": list(if_steps), "ElseSteps": []},
    }


def served_model(*variants: dict, **model_props) -> Build:
    """A model without VPC config or isolation, served by an endpoint configuration with these variants."""

    def build():
        model = res(MODEL, {"executionRoleArn": "r", **model_props}, name="model")
        config = res(
            ENDPOINT_CONFIG,
            {"productionVariants": [{"modelName": "model-0000", **v} for v in variants]},
            deps={"productionVariants": [model]},
        )
        return model, stack(model, config)

    return build


SERVERLESS_VARIANT = {"variantName": "primary", "serverlessConfig": {"maxConcurrency": 5, "memorySizeInMb": 2048}}
INSTANCE_VARIANT = {"variantName": "canary", "instanceType": "ml.m5.large", "initialInstanceCount": 1}

NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"


def node_class(**spec) -> Build:
    base = {"role": "node-role", "amiSelectorTerms": [{"alias": "al2023@latest"}]}
    return one(
        NODE_CLASS,
        {
            "apiVersion": "karpenter.k8s.aws/v1",
            "kind": "EC2NodeClass",
            "metadata": {"name": "gpu"},
            "spec": {**base, **spec},
        },
        provider_=None,
    )


ENCRYPTED_ROOT = [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": "200Gi", "encrypted": True, "kmsKeyID": KEY_ARN}}]

COMPLIANT: dict[str, list[Build]] = {
    "MLOPS-S3-001": [bucket()],
    "MLOPS-S3-002": [bucket()],
    "MLOPS-S3-003": [bucket()],
    "MLOPS-S3-004": [bucket()],
    "MLOPS-S3-005": [bucket()],
    "MLOPS-S3-006": [bucket()],
    "MLOPS-S3-007": [bucket()],
    "MLOPS-S3-008": [bucket()],
    "MLOPS-KMS-001": [one(KEY, {"enableKeyRotation": True, "policy": document()})],
    "MLOPS-KMS-002": [one(KEY, {"deletionWindowInDays": 30}), one(KEY, {})],
    "MLOPS-KMS-003": [
        one(
            KEY,
            {
                "policy": document(
                    {
                        "Sid": "Admin",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "Roles",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": "kms:Decrypt",
                        "Resource": "*",
                        "Condition": {"ArnEquals": {"aws:PrincipalArn": ["arn:aws:iam::111111111111:role/x"]}},
                    },
                )
            },
        )
    ],
    "MLOPS-IAM-001": [
        one(
            ROLE_POLICY,
            {
                "policy": document(
                    allow(["s3:GetObject", "s3:PutObject"], f"{ARTIFACTS}/models/*"), allow("ec2:Describe*", "*")
                )
            },
        ),
        one(
            ROLE,
            {
                "assumeRolePolicy": SERVICE_TRUST,
                "inlinePolicies": [{"name": "x", "policy": document(allow("s3:GetObject", ARTIFACTS + "/*"))}],
            },
        ),
    ],
    "MLOPS-IAM-002": [
        one(
            ROLE_POLICY,
            {
                "policy": document(
                    allow(
                        ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"],
                        "*",
                        Condition={"ArnEquals": {"ec2:Vpc": "arn:aws:ec2:us-east-1:111111111111:vpc/vpc-1"}},
                    )
                )
            },
        ),
        one(
            POLICY,
            {
                "policy": document(
                    allow(["s3:PutObject"], f"{ARTIFACTS}/*"),
                    allow("s3:ListAllMyBuckets", "*"),
                    allow("cloudwatch:PutMetricData", "*"),
                )
            },
        ),
        one(
            ROLE_POLICY,
            {
                "policy": document(
                    allow(
                        ["kms:CreateKey", "kms:TagResource"],
                        "*",
                        Condition={"StringEquals": {"aws:RequestTag/env": "dev"}},
                    )
                )
            },
        ),
    ],
    "MLOPS-IAM-003": [
        one(
            ROLE,
            {"assumeRolePolicy": SERVICE_TRUST, "permissionsBoundary": "arn:aws:iam::111111111111:policy/boundary"},
        )
    ],
    "MLOPS-IAM-004": [
        one(ROLE, {"assumeRolePolicy": github_trust(PINNED)}),
        # A customised subject pinning the workflow: only the pull request's number varies.
        one(
            ROLE,
            {
                "assumeRolePolicy": github_trust(
                    {
                        "StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"},
                        "StringLike": {
                            f"{OIDC}:sub": "repo:org/repo:pull_request:job_workflow_ref:"
                            "org/repo/.github/workflows/pr-preview.yml@refs/pull/*/merge"
                        },
                    }
                )
            },
        ),
    ],
    "MLOPS-IAM-006": [
        one(
            ROLE,
            {
                "assumeRolePolicy": SERVICE_TRUST,
                "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"],
            },
        ),
        one(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"},
        ),
    ],
    "MLOPS-IAM-007": [one(ROLE, {"assumeRolePolicy": SERVICE_TRUST})],
    "MLOPS-IAM-008": [
        boundary_case(document(allow(["s3:*", "kms:*"], "*"), {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}))
    ],
    "MLOPS-NET-001": [
        one(
            SG,
            {
                "vpcId": "vpc",
                "ingress": [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.40.0.0/16"]}],
                "egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
            },
        ),
        one(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            {"securityGroupId": "sg", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "cidrIpv4": "10.0.0.0/8"},
        ),
        one(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            {
                "type": "egress",
                "securityGroupId": "sg",
                "protocol": "-1",
                "fromPort": 0,
                "toPort": 0,
                "cidrBlocks": ["0.0.0.0/0"],
            },
        ),
    ],
    "MLOPS-NET-002": [vpc_with(FLOW_LOG)],
    "MLOPS-NET-003": [vpc_with(CLOSED_DEFAULT_SG)],
    "MLOPS-NET-004": [one("aws:ec2/subnet:Subnet", {"vpcId": "v", "cidrBlock": "10.40.0.0/20"})],
    "MLOPS-NET-005": [vpc_with(S3_ENDPOINT)],
    "MLOPS-NET-006": [
        one(
            S3_ENDPOINT[0],
            {
                **S3_ENDPOINT[1],
                "policy": json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "s3:*",
                                "Resource": "*",
                                "Condition": {"StringEquals": {"aws:ResourceAccount": "111111111111"}},
                            },
                            {
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*",
                            },
                        ]
                    }
                ),
            },
        ),
        one(S3_ENDPOINT[0], {"serviceName": "com.amazonaws.us-east-1.ecr.api", "vpcEndpointType": "Interface"}),
    ],
    "MLOPS-EKS-001": [
        cluster(),
        cluster(
            vpcConfig={
                "subnetIds": ["s"],
                "endpointPrivateAccess": True,
                "endpointPublicAccess": True,
                "publicAccessCidrs": ["203.0.113.0/24"],
            }
        ),
    ],
    "MLOPS-EKS-002": [cluster()],
    "MLOPS-EKS-003": [cluster()],
    "MLOPS-EKS-004": [
        one(
            "aws:eks/nodeGroup:NodeGroup",
            {
                "clusterName": "c",
                "nodeRoleArn": "r",
                "subnetIds": ["s"],
                "scalingConfig": {"desiredSize": 0, "minSize": 0, "maxSize": 2},
                "launchTemplate": {"id": "lt-1", "version": "1"},
            },
        )
    ],
    "MLOPS-EC2-001": [
        one(
            LT, {"metadataOptions": {"httpTokens": "required", "httpEndpoint": "enabled", "httpPutResponseHopLimit": 2}}
        ),
        one(LT, {"metadataOptions": {"httpEndpoint": "disabled"}}),
    ],
    "MLOPS-EC2-002": [
        one(
            LT,
            {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY_ARN}}]},
        )
    ],
    "MLOPS-EC2-003": [
        node_class(metadataOptions={"httpTokens": "required", "httpPutResponseHopLimit": 1}),
        node_class(),
    ],
    "MLOPS-EC2-004": [node_class(blockDeviceMappings=ENCRYPTED_ROOT)],
    "MLOPS-ECR-001": [one(REPO, {"imageTagMutability": "IMMUTABLE"})],
    "MLOPS-ECR-002": [one(REPO, {"imageScanningConfiguration": {"scanOnPush": True}})],
    "MLOPS-ECR-003": [one(REPO, {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]})],
    "MLOPS-SM-001": [
        one(
            ENDPOINT_CONFIG,
            {
                "kmsKeyArn": KEY_ARN,
                "productionVariants": [
                    {"variantName": "a", "modelName": "m", "instanceType": "ml.m5.large", "initialInstanceCount": 1}
                ],
            },
        )
    ],
    "MLOPS-SM-002": [
        one(
            ENDPOINT_CONFIG,
            {
                "dataCaptureConfig": {
                    "initialSamplingPercentage": 10,
                    "destinationS3Uri": "s3://b/data-capture/",
                    "kmsKeyId": KEY_ARN,
                    "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}],
                }
            },
        )
    ],
    "MLOPS-SM-003": [
        one(MODEL, {"executionRoleArn": "r", "vpcConfig": {"subnets": ["s1", "s2"], "securityGroupIds": ["sg"]}})
    ],
    "MLOPS-SM-004": [one(MODEL, {"enableNetworkIsolation": True})],
    "MLOPS-SM-005": [
        pipeline(processing_step(), condition(training_step())),
        pipeline(training_step(instance="ml.g5.2xlarge", volume_key=None)),  # local NVMe: no volume key
        # A parameter's default decides (the stack deploys the template variant of the default's storage kind).
        pipeline(
            training_step(instance={"Get": "Parameters.TrainingInstanceType"}, volume_key=None),
            parameters=[{"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.p5.48xlarge"}],
        ),
    ],
    "MLOPS-SM-006": [pipeline(processing_step(), training_step())],
    "MLOPS-SNS-001": [one("aws:sns/topic:Topic", {"kmsMasterKeyId": KEY_ARN})],
    "MLOPS-LOG-001": [one("aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": KEY_ARN, "retentionInDays": 30})],
    "MLOPS-LOG-002": [one("aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": KEY_ARN, "retentionInDays": 30})],
    "MLOPS-TAG-001": [
        one(
            "pulumi:providers:aws",
            {"defaultTags": {"tags": {"env": "dev", "project": "p", "team": "t", "cost-center": "c"}}},
            provider_=None,
        )
    ],
    "MLOPS-TAG-002": [
        one("aws:sns/topic:Topic", {}),
        one("aws:sns/topic:Topic", {}, provider_=provider(as_json=False)),
    ],
    "MLOPS-PROD-001": [
        stateful("prod", protect=True, retain_on_delete=True),
        stateful("prod", protect=True, retain_on_delete=None),
    ],
    "MLOPS-PROD-002": [one(REPO, {"forceDelete": False}, stack="prod"), stateful("prod")],
}

NONCOMPLIANT: dict[str, list[tuple[Build, str]]] = {
    "MLOPS-S3-001": [
        (bucket(drop=("encryption",)), "no default encryption"),
        (
            bucket(encryption={"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}),
            "AES256, not SSE-KMS",
        ),
        (
            bucket(
                encryption={
                    "rules": [
                        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}, "bucketKeyEnabled": True}
                    ]
                }
            ),
            "AWS-managed aws/s3 key",
        ),
        (
            bucket(
                encryption={
                    "rules": [
                        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}}
                    ]
                }
            ),
            "bucket_key_enabled is off",
        ),
    ],
    "MLOPS-S3-002": [
        (bucket(drop=("versioning",)), "no BucketVersioning"),
        (bucket(versioning={"versioningConfiguration": {"status": "Suspended"}}), "Suspended"),
    ],
    "MLOPS-S3-003": [
        (
            bucket(
                **{
                    "public-access": {
                        "blockPublicAcls": True,
                        "blockPublicPolicy": True,
                        "ignorePublicAcls": True,
                        "restrictPublicBuckets": False,
                    }
                }
            ),
            "restrictPublicBuckets off",
        ),
        (bucket(drop=("public-access",)), "no BucketPublicAccessBlock"),
    ],
    "MLOPS-S3-004": [
        (
            bucket(
                policy={
                    "policy": document(
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": "arn:aws:s3:::data-bucket/*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    )
                }
            ),
            "no Deny of s3:*",
        ),
        (bucket(drop=("policy",)), "no bucket policy"),
    ],
    "MLOPS-S3-005": [
        (
            bucket(
                policy={
                    "policy": document(
                        {
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    )
                }
            ),
            "no Deny of s3:PutObject",
        )
    ],
    "MLOPS-S3-006": [(bucket(drop=("logging",)), "no server access logging")],
    "MLOPS-S3-007": [
        (bucket(drop=("lifecycle",)), "no lifecycle configuration"),
        (
            bucket(
                lifecycle={
                    "rules": [
                        {
                            "id": "a",
                            "status": "Enabled",
                            "filter": {"prefix": ""},
                            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
                        }
                    ]
                }
            ),
            "lacks noncurrent version expiration",
        ),
    ],
    "MLOPS-S3-008": [
        (bucket(drop=("ownership",)), "no BucketOwnershipControls"),
        (bucket(ownership={"rule": {"objectOwnership": "ObjectWriter"}}), "ObjectWriter"),
    ],
    "MLOPS-KMS-001": [(one(KEY, {"enableKeyRotation": False}), "rotation is off")],
    "MLOPS-KMS-002": [(one(KEY, {"deletionWindowInDays": 7}), "deletion window is 7 days")],
    "MLOPS-KMS-003": [
        (one(KEY, {}), "no explicit key policy"),
        (
            one(
                KEY,
                {
                    "policy": document(
                        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
                    )
                },
            ),
            "any principal",
        ),
    ],
    "MLOPS-IAM-001": [
        (one(ROLE_POLICY, {"policy": document(allow("s3:*", ARTIFACTS + "/*", Sid="All"))}), "All: s3:*"),
        (one(POLICY, {"policy": document(allow("s3:Put*", "*"))}), "s3:Put*"),
        (
            one(ROLE_POLICY, {"policy": document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}),
            "NotAction",
        ),
        (
            one(
                ROLE,
                {
                    "assumeRolePolicy": SERVICE_TRUST,
                    "inlinePolicies": [{"name": "x", "policy": document(allow("*", "*"))}],
                },
            ),
            "*",
        ),
        (boundary_case(document(allow("s3:*", "*")), attach=True), "s3:*"),
    ],
    "MLOPS-IAM-002": [
        (one(ROLE_POLICY, {"policy": document(allow("s3:DeleteObject", "*", Sid="Del"))}), "Del: s3:DeleteObject"),
        (
            one(POLICY, {"policy": document(allow("kms:Decrypt", "arn:aws:kms:us-east-1:111111111111:*"))}),
            "kms:Decrypt",
        ),
        (
            one(
                ROLE_POLICY,
                {
                    "policy": document(
                        allow("kms:TagResource", "*", Condition={"StringEqualsIfExists": {"aws:RequestTag/env": "dev"}})
                    )
                },
            ),
            "kms:TagResource",
        ),
    ],
    "MLOPS-IAM-003": [(one(ROLE, {"assumeRolePolicy": SERVICE_TRUST}), "no permission boundary")],
    "MLOPS-IAM-004": [
        (
            one(ROLE, {"assumeRolePolicy": github_trust({"StringLike": {f"{OIDC}:sub": "repo:org/*"}})}),
            "no StringEquals condition on the token's sub",
        ),
        (
            one(
                ROLE,
                {
                    "assumeRolePolicy": github_trust(
                        {"StringEquals": {f"{OIDC}:sub": "repo:org/repo:*", f"{OIDC}:aud": "sts.amazonaws.com"}}
                    )
                },
            ),
            "has a wildcard",
        ),
        (
            one(ROLE, {"assumeRolePolicy": github_trust({"StringEquals": {f"{OIDC}:sub": "repo:org/repo:ref:x"}})}),
            "aud",
        ),
        (
            # Any workflow file of any pull request: the wildcard is wider than the pull request's number.
            one(
                ROLE,
                {
                    "assumeRolePolicy": github_trust(
                        {
                            "StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com"},
                            "StringLike": {
                                f"{OIDC}:sub": "repo:org/repo:pull_request:job_workflow_ref:"
                                "org/repo/.github/workflows/*@refs/pull/*/merge"
                            },
                        }
                    )
                },
            ),
            "is not the pull-request number of one pinned workflow",
        ),
    ],
    "MLOPS-IAM-005": [
        (one("aws:iam/user:User", {"name": "ci"}), "IAM user"),
        (one("aws:iam/accessKey:AccessKey", {"user": "ci"}), "access key"),
    ],
    "MLOPS-IAM-006": [
        (
            one(
                ROLE,
                {
                    "assumeRolePolicy": SERVICE_TRUST,
                    "managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"],
                },
            ),
            "AdministratorAccess",
        ),
        (
            one(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"},
            ),
            "FullAccess",
        ),
    ],
    "MLOPS-IAM-007": [
        (
            one(
                ROLE,
                {
                    "assumeRolePolicy": document(
                        {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}
                    )
                },
            ),
            "Anyone",
        )
    ],
    "MLOPS-IAM-008": [
        (boundary_case(document(allow("*", "*", Sid="Everything"))), "Everything"),
        (boundary_case(document(allow("s3:*", "*"))), "no Deny"),
    ],
    "MLOPS-NET-001": [
        (
            one(SG, {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}]}),
            "0.0.0.0/0",
        ),
        (
            one(
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                {"securityGroupId": "sg", "ipProtocol": "-1", "cidrIpv6": "::/0"},
            ),
            "::/0",
        ),
        (
            one(
                "aws:ec2/securityGroupRule:SecurityGroupRule",
                {
                    "type": "ingress",
                    "securityGroupId": "sg",
                    "protocol": "tcp",
                    "fromPort": 443,
                    "toPort": 443,
                    "cidrBlocks": ["0.0.0.0/0"],
                },
            ),
            "0.0.0.0/0",
        ),
        (
            one(
                "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                {
                    "vpcId": "v",
                    "ingress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
                },
            ),
            "0.0.0.0/0",
        ),
    ],
    "MLOPS-NET-002": [(vpc_with(CLOSED_DEFAULT_SG), "no flow log")],
    "MLOPS-NET-003": [
        (vpc_with(FLOW_LOG), "not managed"),
        (
            vpc_with(
                (
                    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                    {"egress": [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]},
                )
            ),
            "egress rules",
        ),
    ],
    "MLOPS-NET-004": [(one("aws:ec2/subnet:Subnet", {"mapPublicIpOnLaunch": True}), "map_public_ip_on_launch")],
    "MLOPS-NET-005": [
        (
            vpc_with(("aws:ec2/vpcEndpoint:VpcEndpoint", {"serviceName": "com.amazonaws.us-east-1.ecr.api"})),
            "no S3 VPC endpoint",
        )
    ],
    "MLOPS-NET-006": [
        (one(S3_ENDPOINT[0], S3_ENDPOINT[1]), "no endpoint policy"),
        (
            one(
                S3_ENDPOINT[0],
                {
                    **S3_ENDPOINT[1],
                    "policy": json.dumps(
                        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}
                    ),
                },
            ),
            "allow any bucket",
        ),
    ],
    "MLOPS-EKS-001": [
        (cluster(vpcConfig={"subnetIds": ["s"], "endpointPrivateAccess": True}), "0.0.0.0/0 (default)"),
        (
            cluster(vpcConfig={"subnetIds": ["s"], "endpointPrivateAccess": False, "endpointPublicAccess": False}),
            "endpoint_private_access is off",
        ),
        (
            cluster(
                vpcConfig={
                    "subnetIds": ["s"],
                    "endpointPrivateAccess": True,
                    "endpointPublicAccess": True,
                    "publicAccessCidrs": ["0.0.0.0/0"],
                }
            ),
            "public endpoint open to 0.0.0.0/0",
        ),
    ],
    "MLOPS-EKS-002": [
        (cluster(encryptionConfig=None), "not envelope-encrypted"),
        (cluster(encryptionConfig={"resources": ["secrets"], "provider": {}}), "key_arn"),
    ],
    "MLOPS-EKS-003": [(cluster(enabledClusterLogTypes=["api"]), "audit, authenticator")],
    "MLOPS-EKS-004": [
        (one("aws:eks/nodeGroup:NodeGroup", {"clusterName": "c", "instanceTypes": ["g5.xlarge"]}), "no launch template")
    ],
    "MLOPS-EC2-001": [
        (one(LT, {"metadataOptions": {"httpTokens": "optional"}}), "optional"),
        (one(LT, {"imageId": "ami-1"}), "unset"),
    ],
    "MLOPS-EC2-002": [
        (one(LT, {"blockDeviceMappings": [{"deviceName": "/dev/xvdb", "ebs": {"volumeSize": 100}}]}), "/dev/xvdb")
    ],
    "MLOPS-EC2-003": [(node_class(metadataOptions={"httpTokens": "optional"}), "httpTokens is optional")],
    "MLOPS-EC2-004": [
        (node_class(blockDeviceMappings=[{"deviceName": "/dev/xvdb", "ebs": {"volumeSize": "1Ti"}}]), "/dev/xvdb")
    ],
    "MLOPS-ECR-001": [(one(REPO, {}), "MUTABLE")],
    "MLOPS-ECR-002": [(one(REPO, {"imageScanningConfiguration": {"scanOnPush": False}}), "scan_on_push is off")],
    "MLOPS-ECR-003": [
        (one(REPO, {}), "AES256"),
        (one(REPO, {"encryptionConfigurations": [{"encryptionType": "KMS"}]}), "aws/ecr"),
    ],
    "MLOPS-SM-001": [
        (
            one(
                ENDPOINT_CONFIG,
                {"productionVariants": [{"variantName": "a", "modelName": "m", "instanceType": "ml.m5.large"}]},
            ),
            "kms_key_arn is not set",
        )
    ],
    "MLOPS-SM-002": [
        (
            one(
                ENDPOINT_CONFIG,
                {
                    "kmsKeyArn": KEY_ARN,
                    "dataCaptureConfig": {
                        "initialSamplingPercentage": 100,
                        "destinationS3Uri": "s3://b/c/",
                        "captureOptions": [{"captureMode": "Input"}],
                    },
                },
            ),
            "no kms_key_id",
        )
    ],
    "MLOPS-SM-003": [
        (one(MODEL, {"executionRoleArn": "r"}), "subnets and securityGroupIds"),
        (one(MODEL, {"vpcConfig": {"subnets": ["s"], "securityGroupIds": []}}), "securityGroupIds"),
        (served_model(SERVERLESS_VARIANT, INSTANCE_VARIANT), "runs outside the VPC"),
    ],
    "MLOPS-SM-004": [
        (one(MODEL, {"enableNetworkIsolation": False}), "network isolation is off"),
        (served_model(INSTANCE_VARIANT), "network isolation is off"),
    ],
    "MLOPS-SM-005": [
        (pipeline(training_step(output_key=None)), "Train: OutputDataConfig.KmsKeyId"),
        (pipeline(condition(training_step(name="Fit", volume_key=None))), "Fit: ResourceConfig.VolumeKmsKeyId"),
        (
            pipeline(
                training_step(instance={"Get": "Parameters.TrainingInstanceType"}, volume_key=None),
                parameters=[{"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.p3.2xlarge"}],
            ),
            "Train: ResourceConfig.VolumeKmsKeyId",  # an EBS default needs the key
        ),
        (
            pipeline(processing_step(output_key=None, volume_key=None)),
            "ProcessingOutputConfig.KmsKeyId, ProcessingResources.ClusterConfig.VolumeKmsKeyId",
        ),
    ],
    "MLOPS-SM-006": [(pipeline(training_step(), processing_step(name="Eval", vpc=None)), "outside the VPC: Eval")],
    "MLOPS-SNS-001": [
        (one("aws:sns/topic:Topic", {}), "not encrypted"),
        (one("aws:sns/topic:Topic", {"kmsMasterKeyId": "alias/aws/sns"}), "AWS-managed"),
    ],
    "MLOPS-LOG-001": [(one("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 30}), "no kms_key_id")],
    "MLOPS-LOG-002": [
        (one("aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": KEY_ARN}), "kept forever"),
        (one("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 0}), "kept forever"),
    ],
    "MLOPS-TAG-001": [
        (
            one("pulumi:providers:aws", {"defaultTags": '{"tags": {"env": "dev", "project": "p"}}'}, provider_=None),
            "lacks team, cost-center",
        ),
        (one("pulumi:providers:aws", {"region": "us-east-1"}, provider_=None), "lacks env"),
    ],
    "MLOPS-TAG-002": [
        (one("aws:sns/topic:Topic", {}, provider_=None), "default AWS provider"),
        (one("aws:sns/topic:Topic", {}, provider_=provider(name="default_7_51_0")), "default AWS provider"),
        (one("aws:sns/topic:Topic", {}, provider_=provider(tags={"env": "dev"})), "lacks default tags project"),
    ],
    "MLOPS-PROD-001": [
        (stateful("prod", protect=False, retain_on_delete=True), "without protect"),
        (stateful("prod", protect=True, retain_on_delete=False), "without retain_on_delete"),
        (
            one(
                KEY,
                {},
                stack="dev",
                provider_=provider(tags={**dict.fromkeys(("project", "team", "cost-center"), "x"), "env": "prod"}),
            ),
            "without protect",
        ),
    ],
    "MLOPS-PROD-002": [
        (one("aws:s3/bucket:Bucket", {"forceDestroy": True}, stack="prod"), "forceDestroy is on"),
        (one(REPO, {"forceDelete": True}, stack="prod"), "forceDelete is on"),
    ],
}

COMPLIANT |= governance_cases.COMPLIANT
NONCOMPLIANT |= governance_cases.NONCOMPLIANT

NOT_APPLICABLE: dict[str, list[tuple[Build, str]]] = {
    "MLOPS-SM-003": [(served_model(SERVERLESS_VARIANT), "serverless endpoints only")],
    "MLOPS-SM-004": [(served_model(SERVERLESS_VARIANT), "serverless endpoints only")],
    "MLOPS-EC2-004": [(node_class(), "no block device mappings")],
    "MLOPS-KMS-001": [(one(KEY, {"customerMasterKeySpec": "RSA_2048"}), "cannot rotate")],
    "MLOPS-IAM-001": [
        (boundary_case(document(allow("s3:*", "*"))), "permission boundary"),
        (one(ROLE, {"assumeRolePolicy": SERVICE_TRUST}), "no identity policy"),
    ],
    "MLOPS-IAM-002": [(boundary_case(document(allow("s3:*", "*"))), "permission boundary")],
    "MLOPS-IAM-004": [(one(ROLE, {"assumeRolePolicy": SERVICE_TRUST}), "no web-identity trust")],
    "MLOPS-IAM-006": [(one(ROLE, {"assumeRolePolicy": SERVICE_TRUST}), "no managed policies")],
    "MLOPS-IAM-008": [(one(POLICY, {"policy": document(allow("s3:GetObject", "*"))}), "not a permission boundary")],
    "MLOPS-EC2-002": [(one(LT, {}), "no EBS block device mappings")],
    "MLOPS-SM-001": [
        (
            one(
                ENDPOINT_CONFIG,
                {
                    "productionVariants": [
                        {
                            "variantName": "a",
                            "modelName": "m",
                            "serverlessConfig": {"maxConcurrency": 5, "memorySizeInMb": 2048},
                        },
                        {"variantName": "b", "modelName": "m", "instanceType": "ml.g5.xlarge"},
                    ]
                },
            ),
            "serverless or instance-storage",
        )
    ],
    "MLOPS-SM-002": [(one(ENDPOINT_CONFIG, {"kmsKeyArn": KEY_ARN}), "no data capture")],
    "MLOPS-SM-005": [
        (pipeline({"Name": "Register", "Type": "RegisterModel", "Arguments": {}}), "no training"),
        (
            one(PIPELINE, {"pipelineDefinitionS3Location": {"bucket": "b", "objectKey": "k"}}),
            "no inline pipeline definition",
        ),
    ],
    "MLOPS-SM-006": [(pipeline(), "no training or processing steps")],
    "MLOPS-PROD-001": [(stateful("dev"), "stack dev is not prod")],
    "MLOPS-PROD-002": [(one("aws:s3/bucket:Bucket", {"forceDestroy": True}, stack="staging"), "not prod")],
}

NO_PASSING_SUBJECT = {"MLOPS-IAM-005"}
"""Rules whose every subject fails (an IAM user is never compliant); compliant means the stack has none."""


def _cases(table):
    return [
        pytest.param(rule_id, *case, id=f"{rule_id}-{i}")
        for rule_id, cases in table.items()
        for i, case in enumerate(cases)
    ]


def test_every_rule_has_compliant_and_noncompliant_cases():
    assert set(NONCOMPLIANT) == set(RULES)
    assert set(COMPLIANT) | NO_PASSING_SUBJECT == set(RULES)
    assert all(RULES[r].applies_to(build()[0].type) for r, builds in COMPLIANT.items() for build in builds)


@pytest.mark.parametrize(
    ("rule_id", "build"), [pytest.param(r, b, id=f"{r}-{i}") for r, bs in COMPLIANT.items() for i, b in enumerate(bs)]
)
def test_compliant(rule_id, build):
    resource, st = build()
    verdict = RULES[rule_id].evaluate(resource, st)
    assert verdict.status is Status.PASS, verdict.reason


@pytest.mark.parametrize(("rule_id", "build", "reason"), _cases(NONCOMPLIANT))
def test_noncompliant(rule_id, build, reason):
    resource, st = build()
    rule = RULES[rule_id]
    assert rule.applies_to(resource.type)
    verdict = rule.evaluate(resource, st)
    assert verdict.status is Status.FAIL
    assert reason in verdict.reason


@pytest.mark.parametrize(("rule_id", "build", "reason"), _cases(NOT_APPLICABLE))
def test_not_applicable(rule_id, build, reason):
    resource, st = build()
    verdict = RULES[rule_id].evaluate(resource, st)
    assert verdict.status is Status.NOT_APPLICABLE
    assert reason in verdict.reason


def test_iam_users_compliant_means_none_in_the_stack():
    _, clean = one(ROLE, {"assumeRolePolicy": SERVICE_TRUST, "permissionsBoundary": "b"})()
    assert not [f for f in evaluate(clean, suppressions=[]).findings if f.rule.id == "MLOPS-IAM-005"]
    user, dirty = one("aws:iam/user:User", {"name": "ci"})()
    [finding] = [f for f in evaluate(dirty, suppressions=[]).findings if f.rule.id == "MLOPS-IAM-005"]
    assert finding.blocking and finding.resource is user


def test_config_resources_of_another_bucket_do_not_count():
    """A logging resource that depends on a bucket only through `targetBucket` does not give that bucket logging."""
    st, target = bucket_stack(drop=("logging",))
    other = res("aws:s3/bucket:Bucket", {}, name="other")
    logging = res(
        "aws:s3/bucketLogging:BucketLogging",
        {"bucket": "other-id", "targetBucket": "raw"},
        name="other-logging",
        deps={"bucket": [other], "targetBucket": [target]},
    )
    st = stack(*st.resources, other, logging)
    assert RULES["MLOPS-S3-006"].evaluate(target, st).status is Status.FAIL
    assert RULES["MLOPS-S3-006"].evaluate(other, st).status is Status.PASS


def test_references_by_value_when_no_dependency_is_recorded():
    """Stack policies may see imported state without property dependencies: match the bucket by name."""
    bucket_ = res("aws:s3/bucket:Bucket", {"bucket": "raw-123", "id": "raw-123"}, name="raw")
    versioning = res(
        "aws:s3/bucketVersioning:BucketVersioning",
        {"bucket": "raw-123", "versioningConfiguration": {"status": "Enabled"}},
        name="v",
    )
    assert RULES["MLOPS-S3-002"].evaluate(bucket_, stack(bucket_, versioning)).status is Status.PASS


def test_a_rule_that_raises_is_reported_as_a_failure_not_skipped():
    broken = res(KEY, {"deletionWindowInDays": "thirty"})
    [finding] = [f for f in evaluate(stack(broken), suppressions=[]).findings if f.rule.id == "MLOPS-KMS-002"]
    assert finding.failed and "rule raised ValueError" in finding.verdict.reason
