"""The component reference in docs/components.md, generated from the components' docstrings.

    python -m mlops_platform.infra.tooling.component_reference --write   # refresh docs/components.md

Read from the source (the `ast`), not by importing: an `Args` TypedDict keeps no per-field docstrings at run
time, and the reference must not need pulumi-kubernetes installed to document the storage components. A
public component is a `pulumi.ComponentResource` subclass in `components/` whose name does not start with `_`;
its arguments are the fields of the TypedDict its `__init__` takes as `args`, its outputs the class's
annotated attributes.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMPONENTS = REPO / "components"
DOCUMENT = REPO / "docs" / "components.md"
START, END = "<!-- component-reference:start -->", "<!-- component-reference:end -->"


@dataclass(frozen=True)
class Field:
    """An argument or an output."""

    name: str
    annotation: str
    required: bool
    description: str


@dataclass(frozen=True)
class Component:
    """One public component as its source declares it."""

    module: str
    name: str
    type_token: str
    description: str
    args: tuple[Field, ...]
    outputs: tuple[Field, ...]


def _docstring_after(body: list[ast.stmt], index: int) -> str:
    following = body[index + 1] if index + 1 < len(body) else None
    if (
        isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
    ):
        return " ".join(following.value.value.split())
    return ""


def _annotated(body: list[ast.stmt]) -> Iterator[tuple[str, ast.expr, str]]:
    for index, node in enumerate(body):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id, node.annotation, _docstring_after(body, index)


def _is_component(node: ast.ClassDef) -> bool:
    return any(ast.unparse(base).endswith("ComponentResource") for base in node.bases)


def _type_token(node: ast.ClassDef) -> str:
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and ast.unparse(call.func) == "super().__init__" and call.args:
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                return first.value
    return ""


def _args_class(node: ast.ClassDef) -> str | None:
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            for arg in item.args.args:
                if arg.arg == "args" and arg.annotation is not None:
                    return ast.unparse(arg.annotation).strip("'\"")
    return None


def _field(name: str, annotation: ast.expr, description: str, total: bool) -> Field:
    text = ast.unparse(annotation)
    required = total
    for wrapper, value in (("NotRequired[", False), ("Required[", True)):
        if text.startswith(wrapper):
            text, required = text[len(wrapper) : -1], value
    return Field(name, text, required, description)


def _typed_dicts(modules: dict[str, ast.Module]) -> dict[str, ast.ClassDef]:
    found = {}
    for tree in modules.values():
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("TypedDict") for b in node.bases):
                found[node.name] = node
    return found


def _args(typed_dict: ast.ClassDef | None) -> tuple[Field, ...]:
    if typed_dict is None:
        return ()
    total = not any(k.arg == "total" and ast.unparse(k.value) == "False" for k in typed_dict.keywords)
    return tuple(_field(n, a, d, total) for n, a, d in _annotated(typed_dict.body))


def components(root: Path = COMPONENTS) -> list[Component]:
    """Every public component under `root`, sorted by type token."""
    modules = {
        ".".join(path.relative_to(root.parent).with_suffix("").parts): ast.parse(path.read_text())
        for path in sorted(root.rglob("*.py"))
    }
    typed_dicts = _typed_dicts(modules)
    found = []
    for module, tree in modules.items():
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and _is_component(node) and not node.name.startswith("_"):
                args_name = _args_class(node)
                outputs = tuple(Field(n, ast.unparse(a), True, d) for n, a, d in _annotated(node.body))
                found.append(
                    Component(
                        module=module.removesuffix(".__init__"),
                        name=node.name,
                        type_token=_type_token(node),
                        description=" ".join((ast.get_docstring(node) or "").split()),
                        args=_args(typed_dicts.get(args_name or "")),
                        outputs=outputs,
                    )
                )
    return sorted(found, key=lambda c: c.type_token or c.name)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(found: list[Component] | None = None) -> str:
    """The reference: per component its import, type token, description, arguments and outputs."""
    lines: list[str] = []
    for component in components() if found is None else found:
        lines += [
            f"### `{component.name}`",
            "",
            f"`from mlops_platform.{component.module} import {component.name}` · type `{component.type_token}`",
            "",
            component.description or "(no description)",
            "",
        ]
        if component.args:
            lines += ["| argument | type | required | description |", "|---|---|---|---|"]
            for arg in component.args:
                required = "yes" if arg.required else "no"
                lines.append(f"| `{arg.name}` | `{_cell(arg.annotation)}` | {required} | {_cell(arg.description)} |")
            lines.append("")
        if component.outputs:
            lines += ["| output | type | description |", "|---|---|---|"]
            for out in component.outputs:
                lines.append(f"| `{out.name}` | `{_cell(out.annotation)}` | {_cell(out.description)} |")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def current_block(text: str) -> str:
    """The reference block of the document's text."""
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the reference, or write it into docs/components.md with --write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite docs/components.md between its markers")
    args = parser.parse_args(argv)
    if not args.write:
        print(markdown(), end="")
        return 0
    text = DOCUMENT.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOCUMENT.write_text(f"{head}{START}\n{markdown()}{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
