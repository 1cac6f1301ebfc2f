"""Plugin and section options as attrs classes: built from plain mappings with one-line errors
that name the key and suggest the closest valid one, and turned back into plain mappings."""

from __future__ import annotations

import math
import types
import typing

import attrs

from genzoo.errors import GenzooError, did_you_mean

INT_LIMIT = 2**63  # what torch and numpy take as a seed or a size


def plain(instance) -> dict:
    """attrs instance -> dict of YAML/JSON-safe values (tuples become lists)."""
    return attrs.asdict(instance, value_serializer=lambda _, __, v: list(v) if isinstance(v, tuple) else v)


def _type_name(tp) -> str:
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    if tp in names:
        return names[tp]
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (tuple, list):
        return "a list"
    return getattr(tp, "__name__", str(tp))


def convert(tp, value, where: str):
    """Check `value` against the annotation `tp`; ints are accepted where floats are expected."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return convert(option, value, where)
            except GenzooError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is typing.Literal:
        if value in typing.get_args(tp):
            return value
    elif origin in (tuple, list):
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, (list, tuple)):
            (item_tp, *_) = typing.get_args(tp) or (typing.Any,)
            return tuple(convert(item_tp, item, where) for item in items)
    elif tp is typing.Any:
        return value
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value) if abs(value) < 1e300 else math.inf  # a huge int would overflow float()
            if not math.isfinite(number):
                raise GenzooError(f"{where} expects a finite number, got {short_repr(value)}")
            return number
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            if not -INT_LIMIT <= value < INT_LIMIT:
                raise GenzooError(f"{where} expects an integer between -2**63 and 2**63 - 1, got {short_repr(value)}")
            return value
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise GenzooError(f"{where} expects {_type_name(tp)}, got {short_repr(value)}")


def short_repr(value, limit: int = 80) -> str:
    """repr(value) cut to `limit` characters, so that a huge value never floods an error line."""
    import reprlib

    shortener = reprlib.Repr()
    shortener.maxstring = shortener.maxother = limit
    shortener.maxlist = shortener.maxdict = 6
    shortener.maxlevel = 3
    text = shortener.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def structure(cls, data, where: str):
    """Build attrs class `cls` from a mapping, rejecting unknown keys and wrong types."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise GenzooError(f"{where} must be a mapping of options, got {short_repr(data)}")
    attrs.resolve_types(cls)
    fields = {f.name: f for f in attrs.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise GenzooError(unknown_key_message(f"{where}.{key}", key, list(fields)))
        kwargs[key] = convert(fields[key].type, value, f"{where}.{key}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        # attrs validators raise (message, attribute, bound, value): keep the message only
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        raise GenzooError(f"{where}: {message if len(message) <= 200 else message[:197] + '...'}") from None


def unknown_key_message(full: str, key: str, known) -> str:
    return f"unknown key {full!r}: {did_you_mean(key, known)}valid keys here: {', '.join(known) or '(none)'}"
