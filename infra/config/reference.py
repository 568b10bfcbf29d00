"""The config reference (docs/config-reference.md), generated from the models' field docstrings.

python -m mlops_platform.infra.config.reference           # print the Markdown table
python -m mlops_platform.infra.config.reference --write   # refresh docs/config-reference.md between its markers
"""

from __future__ import annotations

import sys
import types
import typing
from enum import Enum
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .platform import PROJECT, PlatformSettings

START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "config-reference.md"


def rows(model: type[BaseModel] = PlatformSettings, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) for every field, depth first; nested models expand in place."""
    found = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        nested = _nested_model(field.annotation)
        default = "required" if field.is_required() else _default(field.default)
        description = " ".join((field.description or "").split())
        found.append((key, _type_name(field.annotation), default, description))
        if nested is not None:
            found += rows(nested, f"{key}[]." if _is_list(field.annotation) else f"{key}.")
    return found


def markdown() -> str:
    """The reference as a Markdown table."""
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, type_, default, description in rows():
        lines.append(f"| `{PROJECT}:{key}` | {type_} | {default} | {description.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def readme_block(readme: str) -> str:
    """The current reference block of the document's text."""
    return readme.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def _nested_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        if (inner := _nested_model(argument)) is not None:
            return inner
    return None


def _is_list(annotation) -> bool:
    origins = {typing.get_origin(annotation), *(typing.get_origin(a) for a in typing.get_args(annotation))}
    return list in origins


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in typing.get_args(annotation) if a is not type(None)]
        optional = type(None) in typing.get_args(annotation)
        return " or ".join(names) + (" (optional)" if optional else "")
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " / ".join(f"`{m.value}`" for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return getattr(annotation, "__name__", str(annotation))


def _default(value) -> str:
    if value is PydanticUndefined or value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def main(argv: list[str]) -> int:
    """Print the reference, or write it into the document with --write."""
    table = markdown()
    if "--write" not in argv:
        sys.stdout.write(table)
        return 0
    text = DOCUMENT.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOCUMENT.write_text(f"{head}{START}\n{table}{END}{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
