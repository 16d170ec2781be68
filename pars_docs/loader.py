"""Load YAML files, remembering the line of every key so errors can point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ParsDocsError

Path_ = tuple  # a field path: keys and list indexes


class _Loader(yaml.SafeLoader):
    """A safe loader that keeps dates as the strings they were written as.

    Instruction sets are validated against a JSON Schema, and a YAML date object would fail a
    ``string`` check even though the author wrote exactly what the schema asks for.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class LoadedYAML:
    """A parsed YAML document with the source line of each field path."""

    def __init__(self, data: Any, lines: dict[Path_, int], path: Path):
        self.data = data
        self.lines = lines
        self.path = path

    def line(self, field: Path_) -> int:
        """The 1-based line of the deepest part of ``field`` that exists in the file."""
        field = tuple(field)
        while field and field not in self.lines:
            field = field[:-1]
        return self.lines.get(field, 1)

    def where(self, field: Path_) -> str:
        return f"{self.path}:{self.line(field)}"


def format_field(field: Path_) -> str:
    """``('before', 'fasting', 'items', 2)`` → ``before.fasting.items[2]``."""
    out = ""
    for part in field:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _walk(node: yaml.Node, field: Path_, lines: dict, duplicates: list) -> None:
    """Record the line of every field path below ``node`` (a key's own line for a mapping
    entry) and every key written twice in one mapping."""
    lines.setdefault(field, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                duplicates.append((field + (key,), key_node.start_mark.line + 1))
            seen.add(key)
            lines[field + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, field + (key,), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, field + (index,), lines, duplicates)


def load_yaml(path: Path, error: type[ParsDocsError] = ParsDocsError) -> LoadedYAML:
    """Parse ``path`` safely; raise ``error`` naming the file and line if it is not valid YAML.

    A key written twice in one mapping is an error: YAML would silently keep the last one and
    drop the other instruction.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise error(f"{path}: file not found") from e
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror})") from e
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise error(f"{path}{line}: not valid YAML: {problem}") from e
    lines: dict[Path_, int] = {}
    duplicates: list = []
    if node is not None:
        _walk(node, (), lines, duplicates)
    if duplicates:
        field, line = duplicates[0]
        raise error(f"{path}:{line}: {format_field(field)}: key written twice")
    return LoadedYAML(data, lines, path)
