"""Preview labels of the governance resources: what a reviewer checks when a trail, a feature group or a
replication rule changes (and what turning a default off looks like)."""

from __future__ import annotations

from collections.abc import Callable

from mlops_platform.infra.tooling.offline import Plan, PlannedResource


def _short(arn: str) -> str:
    return str(arn).rsplit("/", 1)[-1][:8] if arn else "?"


def _trail(resource: PlannedResource, plan: Plan) -> list[str]:
    inputs = resource.inputs
    labels = [
        "log-file validation" if inputs.get("enableLogFileValidation") else "NO LOG-FILE VALIDATION",
        f"KMS {_short(inputs['kmsKeyId'])}" if inputs.get("kmsKeyId") else "NOT KMS-ENCRYPTED",
        "multi-region" if inputs.get("isMultiRegionTrail") else "single region",
    ]
    for selector in inputs.get("advancedEventSelectors") or []:
        fields = {f.get("field"): f for f in selector.get("fieldSelectors") or []}
        category = (fields.get("eventCategory") or {}).get("equals") or []
        if "Management" in category:
            labels.append("management events")
        if "Data" in category:
            buckets = len((fields.get("resources.ARN") or {}).get("startsWiths") or [])
            writes_only = (fields.get("readOnly") or {}).get("equals") == ["false"]
            labels.append(f"S3 data events on {buckets} buckets" + (" (writes only)" if writes_only else ""))
    if not inputs.get("cloudWatchLogsGroupArn"):
        labels.append("no log group")
    return labels


def _feature_group(resource: PlannedResource, plan: Plan) -> list[str]:
    offline = resource.inputs.get("offlineStoreConfig") or {}
    storage = offline.get("s3StorageConfig") or {}
    labels = [f"offline {offline.get('tableFormat', 'Glue')} {storage.get('s3Uri', '?')}"]
    labels.append(f"KMS {_short(storage['kmsKeyId'])}" if storage.get("kmsKeyId") else "OFFLINE NOT KMS")
    online = resource.inputs.get("onlineStoreConfig") or {}
    if online.get("enableOnlineStore"):
        ttl = online.get("ttlDuration")
        labels.append("online store" + (f" TTL {ttl['value']:g} {ttl['unit']}" if ttl else " (no TTL)"))
        if not (online.get("securityConfig") or {}).get("kmsKeyId"):
            labels.append("ONLINE NOT KMS")
    return labels


def _replication(resource: PlannedResource, plan: Plan) -> list[str]:
    labels = []
    for rule in resource.inputs.get("rules") or []:
        destination = rule.get("destination") or {}
        key = (destination.get("encryptionConfiguration") or {}).get("replicaKmsKeyId")
        labels.append(f"→ {str(destination.get('bucket', '?')).removeprefix('arn:aws:s3:::')}")
        labels.append(f"replica KMS {_short(key)}" if key else "REPLICAS NOT KMS")
        if (destination.get("replicationTime") or {}).get("status") == "Enabled":
            labels.append("RTC 15 min")
        if (rule.get("deleteMarkerReplication") or {}).get("status") == "Enabled":
            labels.append("deletes replicate")
    return labels


GOVERNANCE_EXTRACTORS: dict[str, Callable[[PlannedResource, Plan], list[str]]] = {
    "aws:cloudtrail/trail:Trail": _trail,
    "aws:sagemaker/featureGroup:FeatureGroup": _feature_group,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _replication,
}
"""Label functions by resource type, merged into `infra.tooling.report`'s."""
