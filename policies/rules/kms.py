"""KMS: customer-managed keys rotate, wait 30 days before deletion and carry an explicit key policy."""

from __future__ import annotations

from ..core import Level, Resource, Verdict, failed, not_applicable, passed, resource_rule, truthy
from ._iam import principals, statements

KEY = "aws:kms/key:Key"


@resource_rule(
    "MLOPS-KMS-001",
    Level.MANDATORY,
    types=[KEY],
    description="Symmetric keys rotate their key material automatically.",
    remediation="Set enable_key_rotation=True (components.encryption.EncryptionKey always does).",
)
def key_rotation(key: Resource) -> Verdict:
    """enableKeyRotation on symmetric encryption keys."""
    spec = key.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    if spec != "SYMMETRIC_DEFAULT":
        return not_applicable(f"{spec} keys cannot rotate automatically")
    return passed() if truthy(key.get("enableKeyRotation")) else failed("key rotation is off")


@resource_rule(
    "MLOPS-KMS-002",
    Level.MANDATORY,
    types=[KEY],
    description="Keys have the maximum 30-day deletion window.",
    remediation="Set deletion_window_in_days=30 (or leave it unset: 30 is the default).",
)
def key_deletion_window(key: Resource) -> Verdict:
    """deletionWindowInDays is 30 (unset means 30)."""
    days = key.get("deletionWindowInDays", 30)
    return passed() if int(days) >= 30 else failed(f"deletion window is {days:g} days, not 30")


@resource_rule(
    "MLOPS-KMS-003",
    Level.MANDATORY,
    types=[KEY],
    description="Keys have an explicit key policy that grants nothing to any principal (`*`) unconditionally.",
    remediation="Pass a key policy that names its administrators and users (EncryptionKey renders one); "
    "conditions such as aws:PrincipalArn must accompany any Principal *.",
)
def key_policy_explicit(key: Resource) -> Verdict:
    """A policy is set; no unconditioned Allow for everyone."""
    found = statements(key.get("policy"))
    if not found:
        return failed("no explicit key policy: the default policy lets any IAM policy of the account use the key")
    public = [
        s.get("Sid", "?")
        for s in found
        if s.get("Effect") == "Allow" and "*" in principals(s).get("AWS", []) and not s.get("Condition")
    ]
    return failed(f"key policy allows any principal without a condition ({', '.join(public)})") if public else passed()
