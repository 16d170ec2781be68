"""Load YAML files, remembering the line of every key so errors can point at it."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from .. import startup_cache
from ..errors import ParsDocsError

Path_ = tuple  # a field path: keys and list indexes


class _KeyTwice(Exception):
    """A mapping holds a key twice; the walk over the document finds where, to say so."""


@cache
def _yaml() -> tuple[Any, type]:
    """PyYAML and the loader pars-docs uses, imported only when a file must be parsed."""
    import yaml

    # LibYAML (the C parser) when PyYAML was built with it: about twenty times faster.
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        """A safe loader that keeps dates as the strings they were written as, and stops at
        a key written twice in one mapping.

        Instruction sets are validated against a JSON Schema, and a YAML date object would
        fail a ``string`` check even though the author wrote exactly what the schema asks for.
        """

        def construct_mapping(self, node, deep=False):
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
            if len(keys) != len(set(keys)):
                raise _KeyTwice
            return super().construct_mapping(node, deep)

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return yaml, Loader


class LoadedYAML:
    """A parsed YAML document that can tell the source line of each field path.

    The lines are found only when asked for (to report a problem), by walking the parsed
    document's nodes, or parsing its text again for them; a file with no problem is parsed
    once.
    """

    def __init__(self, data: Any, text: str, path: Path, node: Any = None):
        self.data = data
        self.text = text
        self.path = path
        self._node = node
        self._lines: dict[Path_, int] | None = None

    @property
    def lines(self) -> dict[Path_, int]:
        if self._lines is None:
            self._lines, _ = _marks(self.text, self._node)
            self._node = None
        return self._lines

    def line(self, field: Path_) -> int:
        """The 1-based line of the deepest part of ``field`` that exists in the file."""
        lines = self.lines
        field = tuple(field)
        while field and field not in lines:
            field = field[:-1]
        return lines.get(field, 1)

    def where(self, field: Path_) -> str:
        return f"{self.path}:{self.line(field)}"


def format_field(field: Path_) -> str:
    """``('before', 'fasting', 'items', 2)`` → ``before.fasting.items[2]``."""
    out = ""
    for part in field:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


MAX_BYTES = 1 << 20  # 1 MB: the largest instruction set is about 30 KB
MAX_NODES = 100_000  # values after every alias is expanded
MAX_DEPTH = 40  # lists and mappings inside each other
_TOO_DEEP = f"nests lists and mappings more than {MAX_DEPTH} levels deep"


def _bounds(node: Any, path: Path) -> str | None:
    """Why ``node`` is too big to load, or None. An alias repeats what its anchor holds: a
    few hundred bytes of aliases of aliases can stand for billions of values (an "alias
    bomb"), and an alias inside its own anchor for an endless one. Sizes are counted with
    each node counted once per use, without expanding anything."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative, post-order: a deep document must not exhaust Python's stack either.
    stack: list[tuple[Any, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        children = _children(current)
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
            if sizes[key] > MAX_NODES:
                return f"holds more than {MAX_NODES:,} values once its aliases are expanded"
            if depths[key] > MAX_DEPTH:
                return _TOO_DEEP
            continue
        if key in sizes:
            continue
        if key in on_path:
            return "an alias refers to the anchor it is inside (a loop)"
        on_path.add(key)
        stack.append((current, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)
        if len(on_path) > MAX_DEPTH * 2 + 2:
            return _TOO_DEEP
    return None


def _children(node: Any) -> list[Any]:
    yaml, _ = _yaml()
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _walk(node: Any, field: Path_, lines: dict, duplicates: list) -> None:
    """Record the line of every field path below ``node`` (a key's own line for a mapping
    entry) and every key written twice in one mapping. An alias's content is walked once,
    where its anchor is: the line map never expands aliases."""
    yaml, _ = _yaml()
    seen_nodes: set[int] = set()
    stack = [(node, field)]
    while stack:
        current, where = stack.pop()
        lines.setdefault(where, current.start_mark.line + 1)
        if id(current) in seen_nodes:
            continue
        seen_nodes.add(id(current))
        if isinstance(current, yaml.MappingNode):
            seen: set = set()
            for key_node, value_node in current.value:
                key = key_node.value
                if not isinstance(key, str):
                    key = str(key)  # a key that is itself a list or mapping
                if key in seen:
                    duplicates.append((where + (key,), key_node.start_mark.line + 1))
                seen.add(key)
                lines[where + (key,)] = key_node.start_mark.line + 1
                stack.append((value_node, where + (key,)))
        elif isinstance(current, yaml.SequenceNode):
            for index, child in enumerate(current.value):
                stack.append((child, where + (index,)))


def load_yaml(path: Path, error: type[ParsDocsError] = ParsDocsError) -> LoadedYAML:
    """Parse ``path`` safely; raise ``error`` naming the file and line if it is not valid YAML.

    A key written twice in one mapping is an error: YAML would silently keep the last one and
    drop the other instruction. A file over 1 MB, an alias bomb, an alias loop and nesting
    past 40 levels are refused before anything is built from them. An error never quotes
    the file: a file that is not what it should be (``check /etc/passwd``) stays unprinted.
    """
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except FileNotFoundError as e:
        raise error(f"{path}: file not found") from e
    except OSError as e:
        raise error(f"{path}: cannot read ({e.strerror or type(e).__name__})") from e
    if len(raw) > MAX_BYTES:
        raise error(f"{path}: over {MAX_BYTES // (1 << 20)} MB; not a settings file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise error(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    cached = _cache_key(text)
    kept = startup_cache.load("yaml", cached)
    if type(kept) is list and len(kept) == 2 and kept[0] == cached:
        return LoadedYAML(kept[1], text, path)  # parsed before (see startup_cache.py)
    yaml, loader_class = _yaml()
    loader = None
    try:
        loader = loader_class(text)  # it checks the characters at once
        node = loader.get_single_node()
        problem = _bounds(node, path) if node is not None else None
        if problem:
            raise error(f"{path}: {problem}")
        data = loader.construct_document(node) if node is not None else None
    except _KeyTwice:
        _, duplicates = _marks(text, node)
        field, line = duplicates[0]
        raise error(f"{path}:{line}: {format_field(field)}: key written twice") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or type(e).__name__
        if "nesting depth" in problem:
            # PyYAML 6.0.4 and later stop deep nesting in the parser, before _bounds can:
            # the same file gets the same line whichever layer notices first.
            raise error(f"{path}: {_TOO_DEEP}") from e
        raise error(f"{path}{line}: not valid YAML: {problem}") from e
    except RecursionError as e:
        raise error(f"{path}: {_TOO_DEEP}") from e
    except (ValueError, TypeError, OverflowError) as e:
        # A value the safe constructor cannot build (a mapping used as a key, say).
        raise error(f"{path}: not valid YAML ({type(e).__name__})") from e
    finally:
        if loader is not None:
            loader.dispose()
    # A value the record cannot hold as plain data (a date, say): parsed every time.
    startup_cache.keep("yaml", cached, [cached, data])
    return LoadedYAML(data, text, path, node)


def _cache_key(text: str) -> str:
    """The key of the parsed form of ``text`` (see startup_cache.py), by content. Only a file
    that parsed, within the bounds and with no key twice, is kept; a start then reads it
    without importing or running the YAML parser."""
    return hashlib.sha256(b"yaml 2\0" + text.encode("utf-8")).hexdigest()


def _marks(text: str, node: Any = None) -> tuple[dict[Path_, int], list]:
    """The line of every field path of the document (its ``node``, or ``text`` parsed again,
    which is known to parse), and every key written twice in one mapping with its line."""
    if node is None:
        yaml, loader_class = _yaml()
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    lines: dict[Path_, int] = {}
    duplicates: list = []
    if node is not None:
        _walk(node, (), lines, duplicates)
    return lines, duplicates
