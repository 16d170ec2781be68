"""Templates from a clinic's folder are data, never code.

Every template pars-docs renders (the page templates, the instruction sets' wording, the
calendar's words) runs in Jinja2's immutable sandbox: no attribute that starts with an
underscore, no function that changes what it was given, no way to reach Python's modules.
:func:`unsafe_constructs` finds what the sandbox would stop before any handout is made, so
``pars-docs check`` reports a template that tries (see docs/security.md).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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
MAX_MADE = 20 * MAX_TEXT
"""The most characters or items all the texts and lists one render makes may hold together,
so that a loop cannot pile up many texts each under :data:`MAX_TEXT`."""
MAX_INT_BITS = 4096
"""The largest integer a template may compute (about 1,200 digits)."""
MAX_ITERATIONS = 200_000
"""The most items all of a template's loops may go through, together, in one render."""
MAX_SECONDS = 5.0
"""The wall-clock budget of one render, checked as its loops, calls and arithmetic run."""
MAX_WRAPPED = 100_000
"""The longest text the slow filters (``wordwrap``, ``urlize``) may be given."""

_WIDE = re.compile(r"\d{7,}")
"""Seven digits or more in a format string: a width or precision over :data:`MAX_TEXT`."""


class Budget(threading.local):
    """What the render running on this thread has used so far."""

    def __init__(self) -> None:
        self.items = 0
        self.made = 0
        self.deadline = float("inf")

    def start(self) -> None:
        self.items = 0
        self.made = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def tick(self, items: int = 1) -> None:
        self.items += items
        if self.items > MAX_ITERATIONS:
            raise SecurityError(f"loops over more than {MAX_ITERATIONS} items")
        if time.monotonic() > self.deadline:
            raise SecurityError(f"took longer than {MAX_SECONDS:g} seconds")

    def made_value(self, value: object) -> object:
        """``value`` returned, once its size is counted against the render's bounds."""
        size = _size(value)
        if size is not None:
            if size > MAX_TEXT:
                raise SecurityError(f"a text or list over {MAX_TEXT} long")
            self.made += size
            if self.made > MAX_MADE:
                raise SecurityError(f"makes texts and lists over {MAX_MADE} long in all")
        self.tick(0)
        return value


budget = Budget()


def _size(value: object) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple)) else None


def _too_big(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEXT


def _refuse_amplifiers(name: str, value: object, args: tuple, kwargs: dict) -> None:
    """Refuse, before it runs, a filter or method call that would make a text or list far
    larger than what it was given: a width, count or format that asks for more than
    :data:`MAX_TEXT`, a join, replace or indent whose result would be over it, or a slow
    filter on a long text."""
    if any(_too_big(arg) for arg in (*args, *kwargs.values())):
        raise SecurityError(f"{name}: a size over {MAX_TEXT}")
    if name in ("format", "format_map") and isinstance(value, str) and _WIDE.search(value):
        raise SecurityError(f"{name}: a width over {MAX_TEXT}")
    if name == "join":
        items = value if isinstance(value, (list, tuple, str)) else None
        if items is not None:
            sep = args[0] if args and isinstance(args[0], str) else ""
            total = sum(len(str(item)) for item in items) + len(sep) * max(len(items) - 1, 0)
            if total > MAX_TEXT:
                raise SecurityError(f"join: a text over {MAX_TEXT} long")
    if name == "replace" and isinstance(value, str) and len(args) >= 2:
        old, new = str(args[0]), str(args[1])
        grows = value.count(old) * max(len(new) - len(old), 0) if old else len(new) * len(value)
        if len(value) + grows > MAX_TEXT:
            raise SecurityError(f"replace: a text over {MAX_TEXT} long")
    if name == "indent" and isinstance(value, str):
        width = args[0] if args else kwargs.get("width", 4)
        width = len(width) if isinstance(width, str) else width
        if isinstance(width, int) and len(value) + width * (value.count("\n") + 1) > MAX_TEXT:
            raise SecurityError(f"indent: a text over {MAX_TEXT} long")
    if name in ("wordwrap", "urlize") and isinstance(value, str) and len(value) > MAX_WRAPPED:
        raise SecurityError(f"{name}: a text over {MAX_WRAPPED} long")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    pass_arg = getattr(function, "jinja_pass_arg", None)

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        first = 1 if pass_arg is not None else 0  # the context or environment comes first
        value, rest = (args[first], args[first + 1 :]) if len(args) > first else (None, ())
        _refuse_amplifiers(name, value, rest, kwargs)
        return budget.made_value(function(*args, **kwargs))

    return bounded


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with bounds, so a template cannot exhaust the computer:
    text and lists at most :data:`MAX_TEXT` long and :data:`MAX_MADE` in all, integers at
    most :data:`MAX_INT_BITS` bits, loops at most :data:`MAX_ITERATIONS` items per render in
    all, and :data:`MAX_SECONDS` of wall-clock time (see :func:`bounded_render`). Every
    filter and call is checked before it runs for a size that would amplify, and counted
    after; every ``for`` loop goes through a counting iterator. ``lipsum``, which writes any
    amount of text, is not offered."""

    intercepted_binops = frozenset({"*", "**", "+", "//", "%"})
    generation = 2
    """Raised whenever :meth:`_parse` compiles templates differently, so that compiled code
    made by an older pars-docs is never used (see ``compose.composer.compiled_key``)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _bounded_range
        self.globals[_ITER] = _bounded_iter
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            counted = nodes.Call(nodes.Name(_ITER, "load"), [loop.iter], [], None, None)
            loop.iter = counted.set_lineno(loop.lineno)
        return tree

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _refuse_amplifiers("format", owner, (), {})
        return super().wrap_str_format(value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if __obj is not _bounded_iter and __obj is not _bounded_range:
            owner = getattr(__obj, "__self__", None)
            _refuse_amplifiers(getattr(__obj, "__name__", ""), owner, args, kwargs)
            return budget.made_value(super().call(__context, __obj, *args, **kwargs))
        return super().call(__context, __obj, *args, **kwargs)

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
        if operator == "%" and isinstance(left, str):
            values = right if isinstance(right, tuple) else (right,)
            if _WIDE.search(left) or any(_too_big(value) for value in values):
                raise SecurityError(f"a width over {MAX_TEXT}")
        return budget.made_value(super().call_binop(context, operator, left, right))


_ITER = "pars_docs_counted"
"""The name under which every ``for`` loop's items are counted (see :func:`_bounded_iter`)."""


def _bounded_iter(items: Iterable[Any]) -> Iterator[Any]:
    for item in items:
        budget.tick()
        yield item


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_ITERATIONS:
        raise SecurityError(f"a range of more than {MAX_ITERATIONS} items")
    return numbers  # counted as a loop goes through it (see _bounded_iter)


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
