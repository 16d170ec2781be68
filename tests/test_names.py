"""Names that explain themselves: no two classes of the package share a name, and none is a
keyword-dodging stand-in such as ``Warning_``."""

import ast
from collections import defaultdict
from pathlib import Path

import pars_docs

PACKAGE = Path(pars_docs.__file__).parent


def classes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found[node.name].append(str(path.relative_to(PACKAGE)))
    return found


def test_no_two_classes_share_a_name():
    assert {name: where for name, where in classes().items() if len(where) > 1} == {}


def test_no_class_name_ends_in_an_underscore():
    assert [name for name in classes() if name.endswith("_")] == []
