"""Organisation policies: what the organisation's administrator applies once in AWS Organizations, outside every
stack (the environments' deployers cannot touch Organizations). Today the data perimeter's resource control policy
(`perimeter`); `python -m mlops_platform.policies.organization --help` renders it for an organisation.
"""

from .perimeter import Perimeter, StackFacts, problems, render, resource_control_policy, stack_facts

__all__ = ["Perimeter", "StackFacts", "problems", "render", "resource_control_policy", "stack_facts"]
