"""Ownership tags through an explicit provider, and prod protections for stateful resources."""

from __future__ import annotations

from collections.abc import Mapping

from ..core import Level, Provider, Resource, Verdict, failed, not_applicable, parse_json, passed, resource_rule, truthy

AWS_PROVIDER = "pulumi:providers:aws"
REQUIRED_TAGS = ("env", "project", "team", "cost-center")

STATEFUL_TYPES = (
    "aws:s3/bucket:Bucket",
    "aws:kms/key:Key",
    "aws:ecr/repository:Repository",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
    "aws:sagemaker/featureGroup:FeatureGroup",
    "aws:efs/fileSystem:FileSystem",
    "aws:dynamodb/table:Table",
    "aws:rds/instance:Instance",
)
"""Resources that hold data or released artifacts: replacing or deleting one loses it."""

PROD_NAMES = ("prod", "production")


def default_tags(provider: Provider | Resource) -> Mapping[str, str]:
    """The provider's `default_tags.tags` (the input may arrive as JSON text)."""
    block = parse_json(provider.props.get("defaultTags")) or {}
    tags = parse_json(block.get("tags")) if isinstance(block, Mapping) else None
    return tags if isinstance(tags, Mapping) else {}


def _missing_tags(tags: Mapping[str, str]) -> list[str]:
    return [t for t in REQUIRED_TAGS if not str(tags.get(t) or "").strip()]


def is_prod(resource: Resource) -> bool:
    """The resource belongs to a production stack: by stack name, or by its provider's `env` tag."""
    stack = resource.stack.lower()
    if stack in PROD_NAMES or stack.endswith(tuple(f"-{n}" for n in PROD_NAMES)):
        return True
    env = default_tags(resource.provider).get("env", "") if resource.provider else ""
    return str(env).lower() in PROD_NAMES


@resource_rule(
    "MLOPS-TAG-001",
    Level.MANDATORY,
    types=[AWS_PROVIDER],
    description="AWS providers tag every resource with env, project, team and cost-center (default_tags).",
    remediation="Create the provider with default_tags={'tags': settings.default_tags} (infra/composition.py does); "
    "set team and cost_center under mlops-platform:tags in the stack file.",
)
def provider_default_tags(provider: Resource) -> Verdict:
    """default_tags carries the four ownership tags, non-empty."""
    tags = default_tags(provider)
    missing = _missing_tags(tags)
    return (
        failed(f"default_tags lacks {', '.join(missing)}")
        if missing
        else passed(", ".join(f"{k}={tags[k]}" for k in REQUIRED_TAGS))
    )


@resource_rule(
    "MLOPS-TAG-002",
    Level.MANDATORY,
    types=["aws:*"],
    description="Every AWS resource uses an explicit AWS provider whose default tags carry the ownership tags.",
    remediation="Pass opts=ResourceOptions(providers={'aws': provider}) (or parent= a component that has it); "
    "the stack files disable default providers, which would carry no tags.",
)
def resource_uses_tagging_provider(resource: Resource) -> Verdict:
    """Explicit (non-default) provider with the required default tags."""
    provider = resource.provider
    if provider is None or provider.is_default:
        return failed("registered with the default AWS provider, which sets no default tags")
    missing = _missing_tags(default_tags(provider))
    return failed(f"provider {provider.name} lacks default tags {', '.join(missing)}") if missing else passed()


@resource_rule(
    "MLOPS-PROD-001",
    Level.MANDATORY,
    types=STATEFUL_TYPES,
    description="In prod, stateful resources are protected and retained on delete.",
    remediation="Keep mlops-platform:protection.protect_stateful and retain_on_delete true in Pulumi.prod.yaml; "
    "components pass them to stateful children via components._options.stateful().",
)
def prod_stateful_protected(resource: Resource) -> Verdict:
    """protect and retain_on_delete in prod (retain_on_delete only where the caller can see it)."""
    if not is_prod(resource):
        return not_applicable(f"stack {resource.stack} is not prod")
    missing = [] if resource.protect else ["protect"]
    if resource.retain_on_delete is False:
        missing.append("retain_on_delete")
    if missing:
        return failed(f"prod {resource.type.rsplit(':', 1)[-1]} without {' and '.join(missing)}")
    if resource.retain_on_delete is None:
        return passed("protected (retain_on_delete is not visible to the policy engine)")
    return passed("protected and retained on delete")


@resource_rule(
    "MLOPS-PROD-002",
    Level.MANDATORY,
    types=["aws:s3/bucket:Bucket", "aws:ecr/repository:Repository"],
    description="In prod, buckets and repositories cannot be force-deleted with their contents.",
    remediation="Leave storage.force_destroy false in Pulumi.prod.yaml (and force_delete off on repositories).",
)
def prod_no_force_destroy(resource: Resource) -> Verdict:
    """forceDestroy / forceDelete off in prod."""
    if not is_prod(resource):
        return not_applicable(f"stack {resource.stack} is not prod")
    flag = "forceDestroy" if resource.type.startswith("aws:s3") else "forceDelete"
    return failed(f"{flag} is on: deleting it would delete the data in it") if truthy(resource.get(flag)) else passed()
