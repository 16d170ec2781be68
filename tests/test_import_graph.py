"""Dependencies point one way: no import cycle between the package's modules, counting the
imports under ``if TYPE_CHECKING:`` and those inside functions.

The graph is read from the source (the AST of every module), not from what an import happens
to load, so an import that only runs on one path is counted too. ``from package import name``
is an edge to the submodule when ``name`` is one, else to the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pars_docs

PACKAGE = Path(pars_docs.__file__).parent


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module of the package → the package's modules it imports, anywhere in its code."""
    paths = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                targets = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in paths else source
                    for alias in node.names
                ]
            else:
                continue
            graph[name].update(t for t in targets if t in paths and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each as a list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_package_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_graph_sees_the_package():
    graph = import_graph()
    assert "pars_docs.errors" in graph["pars_docs.handout"]
    assert "pars_docs.cli.batch" in graph and "pars_docs.render.pdf.builder" in graph


def test_a_cycle_is_found(tmp_path):
    # The check can fail: two modules that import each other, one only inside a function and
    # the other only for the type checker, make a cycle.
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from .sub import b\n")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import f\n"
    )
    (package / "c.py").write_text("from . import a\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.c"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]


def test_the_batch_api_loads_only_when_used():
    # `from pars_docs.batch import Options, run_batch` works as documented, and importing a
    # batch submodule (the CLI's `--help` imports the ledger) does not load the runner.
    import subprocess
    import sys

    code = (
        "import sys, pars_docs.batch.ledger; assert 'pars_docs.batch.run' not in sys.modules; "
        "from pars_docs.batch import Options, run_batch; print(run_batch.__module__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pars_docs.batch.run"


# The front ends: the commands, the desk and the HL7 v2 listener. They reach the pipeline only
# through the front door (pars_docs.service); besides it they may import the errors, the
# streams, the desk's audit trail and the version, and each other (cli starts the desk and the
# listener). CONTRIBUTING names the same list.
FRONT_ENDS = ("pars_docs.cli", "pars_docs.web", "pars_docs.listen")
CHECKED_FRONT_ENDS = FRONT_ENDS
FRONT_END_IMPORTS = (
    "pars_docs.service",
    "pars_docs.errors",
    "pars_docs.environment",
    "pars_docs.audit",
    "pars_docs._version",
)


def _unit(module: str) -> str:
    """A module's top-level module or package under pars_docs."""
    return ".".join(module.split(".")[:2])


def deeper_imports(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Each front-end module → what it imports past the front door and the allowed list."""
    found: dict[str, set[str]] = {}
    for name, targets in graph.items():
        if _unit(name) not in CHECKED_FRONT_ENDS:
            continue
        deeper = {
            t for t in targets if _unit(t) not in FRONT_ENDS and _unit(t) not in FRONT_END_IMPORTS
        }
        if deeper:
            found[name] = deeper
    return found


def test_front_ends_reach_the_pipeline_only_through_the_front_door():
    assert len(FRONT_END_IMPORTS) <= 6
    assert deeper_imports(import_graph()) == {}


def test_a_deeper_import_is_found(tmp_path):
    # The check can fail: a command that imports a stage module directly is named.
    package = tmp_path / "pars_docs"
    for folder in ("cli", "service", "load"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "service" / "inputs.py").write_text("")
    (package / "load" / "site.py").write_text("")
    (package / "cli" / "make.py").write_text(
        "from ..service import inputs\n\ndef run():\n    from ..load.site import load_site\n"
    )
    assert deeper_imports(import_graph(package)) == {"pars_docs.cli.make": {"pars_docs.load.site"}}


def test_the_desk_reaches_the_pipeline_only_through_the_front_door():
    graph = import_graph()
    desk = {name for name in graph if _unit(name) == "pars_docs.web"}
    assert "pars_docs.web.routes.handout" in desk and "pars_docs.web.packets" in desk
    used = {_unit(t) for name in desk for t in graph[name] if _unit(t) not in FRONT_ENDS}
    assert used <= set(FRONT_END_IMPORTS) and "pars_docs.service" in used


def test_a_deeper_desk_import_is_found(tmp_path):
    # The check can fail for the desk too: a type named from a stage, even only for the type
    # checker, is named.
    package = tmp_path / "pars_docs"
    for folder in ("web", "service", "handout"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "handout" / "engine.py").write_text("")
    (package / "web" / "app.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..handout.engine import E\n"
    )
    assert deeper_imports(import_graph(package)) == {
        "pars_docs.web.app": {"pars_docs.handout.engine"}
    }
