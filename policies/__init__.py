"""The platform's policy pack: rules as plain functions, run by pulumi-policy (`pulumi preview --policy-pack
policies`) and by the offline preview (`mlops-platform preview`), with explicit suppressions.

    from mlops_platform.policies import RULES, Stack, evaluate
    evaluation = evaluate(Stack.from_plan(plan))
"""

from . import rules
from .core import RULES, Level, Provider, Resource, Rule, Stack, Status, Verdict
from .evaluation import Evaluation, Finding, evaluate

__all__ = [
    "RULES",
    "Evaluation",
    "Finding",
    "Level",
    "Provider",
    "Resource",
    "Rule",
    "Stack",
    "Status",
    "Verdict",
    "evaluate",
    "rules",
]
