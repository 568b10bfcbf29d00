"""The policy rules table of docs/security-model.md, generated from the registered rules.

python -m mlops_platform.policies.reference           # print the Markdown table
python -m mlops_platform.policies.reference --write   # refresh docs/security-model.md between its markers
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import rules as _rules  # noqa: F401 (registers every rule)
from .core import RULES

START, END = "<!-- policy-rules:start -->", "<!-- policy-rules:end -->"
DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "security-model.md"


def markdown() -> str:
    """Every rule: ID, level, scope, what it requires and how to fix a violation."""
    lines = ["| rule | level | judged | requirement | remediation |", "|---|---|---|---|---|"]
    for rule in RULES.values():
        judged = "per resource" if rule.scope.value == "resource" else "with the stack"
        cells = (f"`{rule.id}`", rule.level.value, judged, rule.description, rule.remediation)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def readme_block(readme: str) -> str:
    """The current rules block of the document's text."""
    return readme.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write(readme: Path = DOCUMENT) -> None:
    """Replace the block between the markers with the current table."""
    text = readme.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(f"{head}{START}\n{markdown()}{END}{tail}")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        sys.stdout.write(markdown())
