"""Templates from a clinic's folder are data, never code.

Every template pars-docs renders (the page templates, the instruction sets' wording, the
calendar's words) runs in Jinja2's immutable sandbox: no attribute that starts with an
underscore, no function that changes what it was given, no way to reach Python's modules.
:func:`unsafe_constructs` finds what the sandbox would stop before any handout is made, so
``pars-docs check`` reports a template that tries (see docs/security.md).
"""

from __future__ import annotations

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Names and attributes that only a template trying to reach Python itself would use. The
# sandbox refuses them when rendered; the check names them before that.
UNSAFE_NAMES = frozenset(
    {
        "os",
        "sys",
        "system",
        "popen",
        "subprocess",
        "builtins",
        "eval",
        "exec",
        "compile",
        "open",
        "import_module",
        "load_module",
        "globals",
        "getattr",
        "setattr",
        "delattr",
        "mro",
        "func_globals",
        "gi_frame",
        "gi_code",
        "cr_frame",
        "f_globals",
        "f_locals",
        "f_back",
        "tb_frame",
        "co_code",
        "environ",
        "modules",
    }
)


def environment(**options) -> ImmutableSandboxedEnvironment:
    """A sandboxed Jinja2 environment in which a misspelt variable fails loudly."""
    return ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, **options)


def _unsafe(name: object) -> bool:
    return isinstance(name, str) and (name.startswith("_") or name in UNSAFE_NAMES)


def unsafe_constructs(source: str) -> list[str]:
    """What in the template ``source`` reaches for Python's internals: an attribute or key
    that starts with ``_`` (``__class__``, ``__globals__``), or a name such as ``os`` or
    ``system``. Empty for a safe template. Raises :class:`jinja2.TemplateSyntaxError` for one
    that does not parse."""
    tree = jinja2.Environment().parse(source)
    found: list[str] = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Filter)):
        if isinstance(node, nodes.Getattr) and _unsafe(node.attr):
            found.append(f"line {node.lineno}: .{node.attr}")
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and _unsafe(node.arg.value)
        ):
            found.append(f"line {node.lineno}: [{node.arg.value!r}]")
        elif isinstance(node, nodes.Name) and _unsafe(node.name):
            found.append(f"line {node.lineno}: {node.name}")
        elif isinstance(node, nodes.Filter) and node.name in ("attr", "map", "selectattr"):
            values = [*node.args, *(kwarg.value for kwarg in node.kwargs)]
            for arg in values:
                if isinstance(arg, nodes.Const) and _unsafe(arg.value):
                    found.append(f"line {node.lineno}: {node.name}({arg.value!r})")
    return found
