"""A standalone execution role for an AWS service: trust for one named service on behalf of one account,
an optional permissions boundary, and inline statements. Usable without `PersonaRoles`."""

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import _iam
from ._validation import check_args


class ExecutionRoleArgs(TypedDict):
    """Arguments of `ExecutionRole`."""

    service: str
    """The service principal that may assume the role, e.g. `sagemaker.amazonaws.com`."""
    account_id: pulumi.Input[str]
    """The account on whose behalf the service acts (trust condition aws:SourceAccount, against confused
    deputies)."""
    statements: NotRequired[Sequence[_iam.Statement]]
    """Inline policy statements (IAM JSON as dicts; values may be Outputs). An `Allow` of action `*` is refused."""
    permissions_boundary_arn: NotRequired[pulumi.Input[str]]
    """Managed policy capping the role's permissions whatever is attached later. Default: none."""
    role_name: NotRequired[str]
    """Physical role name. Default: Pulumi auto-naming."""
    max_session_hours: NotRequired[int]
    """Maximum session duration, 1-12 hours (default 1)."""
    description: NotRequired[str]
    """Shown in the IAM console."""


class ExecutionRole(pulumi.ComponentResource):
    """An IAM role that exactly one AWS service may assume, for this account only, with its permissions inline
    and an optional permissions boundary."""

    role: aws.iam.Role
    """The role."""
    arn: pulumi.Output[str]
    """ARN of the role."""
    role_name: pulumi.Output[str]
    """Name of the role."""

    def __init__(self, name: str, args: ExecutionRoleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        args = check_args(ExecutionRole, name, args)
        super().__init__("mlops:roles:ExecutionRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        service = args["service"]
        self.role = aws.iam.Role(
            f"{name}-role",
            name=args.get("role_name"),
            description=args.get("description"),
            assume_role_policy=_iam.render([_iam.service_trust("ServiceAssumesRole", service, args["account_id"])]),
            permissions_boundary=args.get("permissions_boundary_arn"),
            max_session_duration=args.get("max_session_hours", 1) * 3600,
            opts=child,
        )
        if statements := list(args.get("statements", [])):
            aws.iam.RolePolicy(
                f"{name}-policy",
                role=self.role.id,
                policy=_iam.render(statements),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.arn = self.role.arn
        self.role_name = self.role.name
        self.register_outputs({"arn": self.arn, "role_name": self.role_name})
