"""Reading small config files safely: bounded size, UTF-8 only, no duplicate keys, no alias bombs."""

from __future__ import annotations

from pathlib import Path

import yaml

from genzoo.errors import GenzooError
from genzoo.options import short_repr


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


MAX_CONFIG_BYTES = 1 << 20  # a recipe, sweep or run config is a few hundred bytes
MAX_CONFIG_VALUES = 100_000  # values in a config once YAML aliases are expanded


def read_text_file(path: Path, what: str, limit: int = MAX_CONFIG_BYTES) -> str:
    """A small UTF-8 text file, or a one-line error saying why not."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise GenzooError(f"cannot read {what} {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise GenzooError(f"{what} {path} is larger than {limit // 1024} KiB; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GenzooError(f"{what} {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def check_expanded_size(data, where, limit: int = MAX_CONFIG_VALUES) -> None:
    """Refuse a document whose aliases expand it beyond `limit` values (a YAML "billion laughs")."""
    count, stack = 0, [data]
    while stack:
        node = stack.pop()
        count += 1
        if count > limit:
            raise GenzooError(f"{where} expands to more than {limit:,} values (nested YAML aliases?); write the config out plainly")
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)


def read_mapping(path: Path) -> dict:
    """A YAML file holding one mapping (an empty file is an empty mapping)."""
    text = read_text_file(path, "config")
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise GenzooError(f"malformed YAML in {path}{where}: {short_repr(problem, 120)}") from None
    check_expanded_size(data, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GenzooError(f"{path} must hold a mapping of keys to values, not a {type(data).__name__}")
    return data
