"""Templates from a clinic's folder are data, never code.

Every template pars-docs renders (the page templates, the instruction sets' wording, the
calendar's words) runs in Jinja2's immutable sandbox: no attribute that starts with an
underscore, no function that changes what it was given, no way to reach Python's modules.
:func:`unsafe_constructs` finds what the sandbox would stop before any handout is made, so
``pars-docs check`` reports a template that tries (see docs/security.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
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


MAX_TEXT = 1_000_000
"""The longest text, list or output one template may build (characters or items)."""
MAX_INT_BITS = 4096
"""The largest integer a template may compute (about 1,200 digits)."""
MAX_ITERATIONS = 200_000
"""The most items all of a template's ``range()`` loops may give, together, in one render."""
MAX_SECONDS = 5.0
"""The wall-clock budget of one render, checked as its ranges and arithmetic run."""


class Budget(threading.local):
    """What the render running on this thread has used so far."""

    def __init__(self) -> None:
        self.items = 0
        self.deadline = float("inf")

    def start(self) -> None:
        self.items = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def tick(self, items: int = 1) -> None:
        self.items += items
        if self.items > MAX_ITERATIONS:
            raise SecurityError(f"loops over more than {MAX_ITERATIONS} items")
        if time.monotonic() > self.deadline:
            raise SecurityError(f"took longer than {MAX_SECONDS:g} seconds")


budget = Budget()


def _size(value: object) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple)) else None


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with bounds, so a template cannot exhaust the computer:
    text and lists at most :data:`MAX_TEXT` long, integers at most :data:`MAX_INT_BITS`
    bits, ``range`` loops at most :data:`MAX_ITERATIONS` items per render in all, and
    :data:`MAX_SECONDS` of wall-clock time (see :func:`bounded_render`). ``lipsum``, which
    writes any amount of text, is not offered."""

    intercepted_binops = frozenset({"*", "**", "+", "//", "%"})

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _bounded_range

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and abs(left).bit_length() * right > MAX_INT_BITS:
                raise SecurityError(f"a number over {MAX_INT_BITS} bits")
        if operator == "*":
            sizes = (_size(left), _size(right))
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise SecurityError(f"a number over {MAX_INT_BITS} bits")
            elif sizes[0] is not None and isinstance(right, int) and sizes[0] * right > MAX_TEXT:
                raise SecurityError(f"a text or list over {MAX_TEXT} long")
            elif sizes[1] is not None and isinstance(left, int) and sizes[1] * left > MAX_TEXT:
                raise SecurityError(f"a text or list over {MAX_TEXT} long")
        added = (_size(left), _size(right))
        if operator == "+" and added[0] is not None and added[1] is not None:
            if added[0] + added[1] > MAX_TEXT:
                raise SecurityError(f"a text or list over {MAX_TEXT} long")
        budget.tick(0)
        return super().call_binop(context, operator, left, right)


def _bounded_range(*args: int) -> Iterator[int]:
    numbers = range(*args)
    if len(numbers) > MAX_ITERATIONS:
        raise SecurityError(f"a range of more than {MAX_ITERATIONS} items")
    for number in numbers:
        budget.tick()
        yield number


def bounded_render(template: jinja2.Template, context: dict) -> str:
    """``template`` rendered within the bounds: at most :data:`MAX_TEXT` characters of
    output, and the budget of :class:`BoundedEnvironment`. Exceeding one raises
    :class:`jinja2.exceptions.SecurityError`; so does recursion too deep (macros that call
    themselves, a template that includes itself) or a value Jinja cannot handle."""
    budget.start()
    out: list[str] = []
    size = 0
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_TEXT:
                raise SecurityError(f"writes more than {MAX_TEXT} characters")
            budget.tick(0)
            out.append(chunk)
    except RecursionError as e:
        raise SecurityError("calls or includes itself too deeply") from e
    except (TypeError, ValueError, OverflowError, MemoryError) as e:
        raise SecurityError(f"cannot be rendered ({type(e).__name__})") from e
    finally:
        budget.deadline = float("inf")
    return "".join(out)


def environment(**options) -> ImmutableSandboxedEnvironment:
    """A bounded, sandboxed Jinja2 environment in which a misspelt variable fails loudly."""
    return BoundedEnvironment(undefined=jinja2.StrictUndefined, **options)


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
