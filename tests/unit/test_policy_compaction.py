"""Compacting the persona boundary keeps its meaning: only resources another entry already matches go."""

import pytest
from mlops_platform.components._policy_compaction import compact, covers
from mlops_platform.components.access import PersonaRoles

from tests.unit.test_access import ARGS


def test_a_pattern_covers_what_its_wildcards_span_and_nothing_more():
    group = "arn:aws:logs:r:1:log-group:/aws/sagemaker/Endpoints/p-dev-*"
    assert covers(group, f"{group}:log-stream:*")  # every stream of those groups
    assert not covers(f"{group}:log-stream:*", group)
    assert not covers("arn:aws:s3:::p-dev-raw?", "arn:aws:s3:::p-dev-raw*")  # `?` is one character, not any text
    assert not covers("arn:aws:s3:::p-dev-raw[ab]", "arn:aws:s3:::p-dev-rawa")  # brackets are literal in IAM


def test_compact_drops_repeats_and_covered_resources_only():
    statements = [
        {"Sid": "A", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": ["x:*", "x:log-stream:*", "y"]},
        {"Sid": "B", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": ["x:*", "y"]},
        {"Sid": "C", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": ["y", "y"]},
    ]
    assert compact(statements) == [
        {"Sid": "A", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": ["x:*", "y"]},
        {"Sid": "C", "Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "y"},
    ]


def test_bucket_arns_outside_the_boundary_pattern_are_refused_before_registration():
    args = {**ARGS, "bucket_arns": {**ARGS["bucket_arns"], "raw": "arn:aws:s3:::elsewhere-raw"}}
    with pytest.raises(ValueError, match=r"bucket_arns\['raw'\]='arn:aws:s3:::elsewhere-raw' must match "
                                         r"'arn:aws:s3:::p-dev-raw\*'"):  # fmt: skip
        PersonaRoles("personas", args)
