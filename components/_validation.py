"""Argument validation at the component edge, before the first child resource is registered.

`check_args(ComponentClass, name, args)` validates a component's `args` against the `XxxArgs` TypedDict its
`__init__` declares, with a pydantic model derived from the annotations:

- unknown keys and missing required keys are errors, at every level (nested dataclasses given as dicts too);
- scalars are strict (`"5"` is not an int, `1` is not a bool); a bare `str` where a sequence is expected is an
  error (a string is a `Sequence[str]` to type checkers, and would be split into characters);
- `pulumi.Input[T]` accepts an `Output` (or any awaitable) unchecked, since its value is unknown before the
  deployment, and checks plain values;
- the value types of `components._arg_rules` (ARNs, account IDs, regions, URIs, names, ranges; the same types
  the stack config uses) refine the scalars of named fields, and its cross-field checks run on the result;
- enum values may be given as their strings, nested dataclasses as dicts (as multi-language programs send
  them): the result holds the enum members and dataclass instances.

The error is a `ComponentArgumentError` (a `pulumi.RunError`, `TypeError` and `ValueError`) naming the
component, the argument path, the value and what is accepted.
"""

import dataclasses
import functools
import inspect
import types
import typing
from collections import abc
from enum import Enum
from typing import Annotated, Any, NotRequired, Required, TypeVar, Union, get_args, get_origin

import pulumi
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    InstanceOf,
    PlainValidator,
    Strict,
    Tag,
    TypeAdapter,
    ValidationError,
    WrapValidator,
    create_model,
)
from pydantic_core import PydanticCustomError

from . import _arg_rules

T = TypeVar("T")

_UNSET: Any = object()
"""Default of optional keys, dropped from the validated dict (so `args.get(key, default)` keeps working)."""

_SCALARS = (str, int, float, bool)
_SEQUENCES = (abc.Sequence, list, tuple, typing.Sequence, abc.MutableSequence)
_MAPPINGS = (abc.Mapping, dict, typing.Mapping, abc.MutableMapping)


class ComponentArgumentError(pulumi.RunError, TypeError, ValueError):
    """A component was given arguments it cannot accept. Raised before any resource is registered.

    A `pulumi.RunError`, so the Pulumi CLI prints the message without a stack trace; also a `TypeError` and a
    `ValueError`, the exceptions Python code expects for bad arguments."""


def check_args(component: type, name: str, args: T) -> T:
    """Validate `args` of `component` (a ComponentResource class whose `__init__` annotates `args`).

    Returns the validated arguments: the same keys, enum strings turned into members and dicts into the
    annotated dataclasses. Raises `ComponentArgumentError` listing every problem.
    """
    args_type = inspect.get_annotations(component.__init__)["args"]
    label = f"{component.__name__} {name!r}"
    if not isinstance(args, abc.Mapping):
        raise ComponentArgumentError(
            f"{label}: args={_show(args)} is not a mapping; expected a dict of {args_type.__name__} keys"
        )
    try:
        validated = _adapter(args_type).validate_python(args)
    except ValidationError as error:
        raise ComponentArgumentError(_message(label, args, error)) from None
    return typing.cast(T, validated)


@functools.cache
def _adapter(args_type: type) -> TypeAdapter:
    return TypeAdapter(_structured(args_type))


def _message(label: str, args: Any, error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        path = _path(item["loc"])
        if item["type"] == "missing":
            problems.append(f"missing required argument {path}")
            continue
        if not item["loc"]:
            problems.append(item["msg"].removeprefix("Value error, "))
            continue
        if item["type"] in ("unknown_keys", "structure") and not isinstance(item["input"], str):
            problems.append(f"{path}: {item['msg']}")
            continue
        problems.append(f"{path}={_show(item['input'])}: {item['msg'].removeprefix('Value error, ')}")
    return f"{label}: " + "; ".join(problems)


def _path(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and part[:1].isupper():
            continue  # a union branch's tag (a class name), not a key
        else:
            text += f".{part}" if text else str(part)
    return text or "args"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _fields(cls: type) -> dict[str, tuple[Any, Any]]:
    """Field name -> (annotation, default or _UNSET or ...) of a TypedDict or dataclass."""
    if dataclasses.is_dataclass(cls):
        found = {}
        for field in dataclasses.fields(cls):
            if field.default is not dataclasses.MISSING:
                default = field.default
            elif field.default_factory is not dataclasses.MISSING:
                default = Field(default_factory=field.default_factory)
            else:
                default = ...
            found[field.name] = (field.type, default)
        return found
    annotations: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        annotations.update(inspect.get_annotations(base))
    optional = getattr(cls, "__optional_keys__", frozenset())
    return {key: (hint, _UNSET if key in optional else ...) for key, hint in annotations.items()}


@functools.cache
def _structured(cls: type) -> Any:
    """The pydantic type validating a TypedDict or dataclass: unknown keys refused, fields converted."""
    rules = _arg_rules.FIELDS.get(cls.__name__, {})
    fields = _fields(cls)
    is_dataclass = dataclasses.is_dataclass(cls)

    def field_type(key: str, hint: Any) -> Any:
        converted = _convert(hint, rules.get(key))
        # Dataclasses are frozen (hashable): their sequences are kept as tuples.
        return Annotated[converted, AfterValidator(_freeze)] if is_dataclass else converted

    model = create_model(
        f"{cls.__name__}Validator",
        __config__=ConfigDict(arbitrary_types_allowed=True, extra="forbid", defer_build=True),
        **{key: (field_type(key, hint), default) for key, (hint, default) in fields.items()},
    )
    accepted = ", ".join(fields)

    def to_mapping(value: Any) -> Any:
        if is_dataclass and isinstance(value, cls):
            return {key: getattr(value, key) for key in fields}
        if isinstance(value, str) or not isinstance(value, abc.Mapping):
            raise PydanticCustomError(
                "structure",
                "expected a {kind} or a dict with keys {accepted}",
                {"kind": cls.__name__, "accepted": accepted},
            )
        unknown = [key for key in value if key not in fields]
        if unknown:
            raise PydanticCustomError(
                "unknown_keys",
                "unknown key(s) {unknown}; {kind} accepts {accepted}",
                {"unknown": ", ".join(map(str, unknown)), "kind": cls.__name__, "accepted": accepted},
            )
        return value

    def build(validated: Any) -> Any:
        values = {key: getattr(validated, key) for key in fields if getattr(validated, key) is not _UNSET}
        result = cls(**values) if is_dataclass else values
        for check in _arg_rules.CHECKS.get(cls.__name__, ()):
            check(result)
        return result

    return Annotated[model, BeforeValidator(to_mapping), AfterValidator(build)]


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _pass_unknown(value: Any, handler: Any) -> Any:
    # An Output (or awaitable) has no value before the deployment: pass it on unchecked.
    if isinstance(value, pulumi.Output) or inspect.isawaitable(value):
        return value
    return handler(value)


def _is_input(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and any(get_origin(a) is abc.Awaitable for a in get_args(hint))


def _convert(hint: Any, leaf: Any = None) -> Any:
    """The pydantic type for one annotation; `leaf` (a `components.types` type) replaces its scalars."""
    origin = get_origin(hint)
    if origin in (NotRequired, Required):
        return _convert(get_args(hint)[0], leaf)
    if _is_input(hint):
        plain = next(get_args(a)[0] for a in get_args(hint) if get_origin(a) is abc.Awaitable)
        converted = _convert(plain, leaf)
        if type(None) in get_args(hint):
            converted = converted | None
        return Annotated[converted, WrapValidator(_pass_unknown)]
    if origin in (Union, types.UnionType):
        members = get_args(hint)
        structured = [m for m in members if dataclasses.is_dataclass(m)]
        if len(structured) > 1:
            tagged = Annotated[
                Union[tuple(Annotated[_convert(m, leaf), Tag(m.__name__)] for m in structured)],  # noqa: UP007
                Discriminator(_branch(structured)),
            ]
            return tagged | None if type(None) in members else tagged
        return Union[tuple(_convert(m, leaf) for m in members)]  # noqa: UP007
    if hint is type(None) or hint is Any:
        return hint
    if origin is tuple:
        return tuple[_convert(get_args(hint)[0], leaf), ...]
    if origin in _SEQUENCES:
        return abc.Sequence[_convert(get_args(hint)[0], leaf)]
    if origin in _MAPPINGS:
        key, value = get_args(hint)
        return dict[_convert(key), _convert(value, leaf)]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _structured(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return Annotated[hint, PlainValidator(_enum_member(hint))]
    if hint in _SCALARS:
        return Annotated[leaf if leaf is not None else hint, Strict(), _as_given(hint)]
    if isinstance(hint, type):
        return InstanceOf[hint]
    raise TypeError(f"mlops_platform.components._validation cannot validate the annotation {hint!r}")


def _as_given(hint: type) -> WrapValidator:
    """Check a str/int/float/bool strictly but return the caller's value unchanged: a StrEnum member stays a
    member, an int given for a float stays an int (messages and plans show what was written). The one
    conversion: a whole float for an int, as Pulumi's component provider passes integers (3.0)."""

    def keep(value: Any, handler: Any) -> Any:
        if hint is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            handler(float(value))
        else:
            handler(value)
        return value

    return WrapValidator(keep)


def _enum_member(enum: type[Enum]):
    accepted = ", ".join(str(member.value) for member in enum)

    def member(value: Any) -> Enum:
        if isinstance(value, enum):
            return value
        try:
            return enum(value)
        except ValueError:
            raise PydanticCustomError("enum", "expected one of {accepted}", {"accepted": accepted}) from None

    return member


def _branch(members: list[type]):
    """Which dataclass of a union a value is: its class, or the first whose fields hold all the dict's keys."""

    def choose(value: Any) -> str | None:
        for member in members:
            if isinstance(value, member):
                return member.__name__
        if isinstance(value, abc.Mapping):
            for member in members:
                names = {f.name for f in dataclasses.fields(member)}
                if set(value) <= names:
                    return member.__name__
        return None

    return choose
