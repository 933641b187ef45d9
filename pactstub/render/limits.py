"""How long one template render may run and how much it may write.

A template is a small program, and a small program can loop for ever or build a value
larger than memory: two nested ``range(100000)`` loops, a loop that appends to the list
it walks, or ``10 ** (10 ** 7)``, which holds the process for seconds and is then a
number nobody can write. None of them may hold a request thread (or a core) past the
render's deadline. A thread cannot be interrupted from outside, so the render checks for
itself, and cheaply:

* the output is streamed (``Template.generate``); after every chunk the time and the
  characters written so far are checked;
* every ``{% for %}`` iterates through a guard that checks the time at each step, so a
  loop that writes nothing stops too;
* the operations that make a huge value in one step refuse, before computing it, a result
  larger than the output limit or an integer of more than :data:`MAX_INT_BITS` bits:
  ``**``, ``*`` and ``%``, the padding and formatting methods of strings, and the
  ``center``, ``indent``, ``format``, ``replace`` filters and ``lipsum``.

A render stopped this way raises :class:`RenderLimitReached`; the template's owner turns it
into a :class:`~pactstub.errors.TemplateError` naming the file (and the line, when the
template was running one).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import closing
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

__all__ = ["MAX_INT_BITS", "LimitedSandbox", "RenderLimitReached", "RenderLimits", "render_within"]

#: The largest integer a template may compute in one step, in bits (about 19,700 digits).
MAX_INT_BITS = 1 << 16
#: The filter every ``{% for %}`` loop's iterable passes through.
_GUARD = "pactstub_loop_guard"
#: When the render running in this thread (or task) must end, on ``time.monotonic()``'s clock.
_DEADLINE: ContextVar[float | None] = ContextVar("pactstub_render_deadline", default=None)
#: How many output chunks go by between two looks at the clock (loops look at every step).
_CLOCK_EVERY = 32
#: A ``%`` conversion's width and precision (``%-10.3f``, ``%*d``).
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")
#: A ``str.format`` field's width and precision (``{:>10}``, ``{0:.3}``).
_FORMAT_SPEC = re.compile(r"\{[^{}]*:[^{}\d]*(\d+)?(?:\.(\d+))?[^{}]*\}")


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """The bounds of one render."""

    #: seconds a render may take
    timeout_s: float = 2.0
    #: bytes of output a render may write; also the largest string or list one step may build
    max_bytes: int = 1024 * 1024


class RenderLimitReached(Exception):
    """A render went past its time or size limit; the message says which, and where."""


class LimitedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with every loop guarded and the operators that explode checked."""

    intercepted_binops = frozenset({"**", "*", "%"})

    def __init__(self, limits: RenderLimits, **options: Any) -> None:
        super().__init__(**options)
        self.limits = limits
        self.filters[_GUARD] = _guarded
        for name, bound in _FILTER_BOUNDS.items():
            self.filters[name] = _bounded(self.filters[name], bound, limits.max_bytes, f"the {name} filter")
        lipsum: Callable[..., Any] = self.globals["lipsum"]  # type: ignore[assignment]
        self.globals["lipsum"] = _bounded(lipsum, _lipsum_size, limits.max_bytes, "lipsum()")

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """The template's tree with every ``{% for %}`` iterable passed through the loop guard."""
        tree = super()._parse(source, name, filename)
        for loop in list(tree.find_all(nodes.For)):
            loop.iter = nodes.Filter(loop.iter, _GUARD, [], [], None, None, lineno=loop.lineno)
        return tree

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        problem = _binop_problem(operator, left, right, self.limits.max_bytes)
        if problem is not None:
            raise RenderLimitReached(f"{_shown(left)} {operator} {_shown(right)} would be {problem}; refused")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        method = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        owner = getattr(method, "__self__", None)
        if isinstance(owner, str):
            bound = _METHOD_BOUNDS.get(getattr(method, "__name__", ""))
            if bound is not None:
                size = bound(owner, *args, **kwargs)
                _check(size, __self.limits.max_bytes, f"str.{method.__name__}()")
        return super().call(__context, __obj, *args, **kwargs)


def render_within(template: jinja2.Template, variables: Mapping[str, Any], limits: RenderLimits) -> str:
    """The template's output, or :class:`RenderLimitReached` once it runs too long or writes too much."""
    deadline = time.monotonic() + limits.timeout_s
    token = _DEADLINE.set(deadline)
    parts: list[str] = []
    written = 0
    try:
        chunks = template.generate(variables)
        with closing(chunks):  # type: ignore[type-var]  # a generator: close() runs its cleanup
            for count, chunk in enumerate(chunks, 1):
                parts.append(chunk)
                written += len(chunk)
                if written > limits.max_bytes:
                    raise RenderLimitReached(f"the output is larger than {limits.max_bytes} bytes")
                if not count % _CLOCK_EVERY and time.monotonic() > deadline:
                    raise _late(limits.timeout_s)
    finally:
        _DEADLINE.reset(token)
    if time.monotonic() > deadline:
        raise _late(limits.timeout_s)
    return "".join(parts)


def _late(timeout_s: float) -> RenderLimitReached:
    return RenderLimitReached(f"the render took longer than {timeout_s:g} s and was stopped")


def _guarded(iterable: Iterable[Any]) -> Iterable[Any]:
    """The loop's items, as long as the render has time left."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return iterable
    return _until(iter(iterable), deadline)


def _until(items: Iterator[Any], deadline: float) -> Iterator[Any]:
    for item in items:
        if time.monotonic() > deadline:
            raise RenderLimitReached("a loop was still running at the render's deadline; it was stopped")
        yield item


# ------------------------------------------------------------------ sizes before computing


def _check(size: float, limit: int, what: str) -> None:
    if size > limit:
        raise RenderLimitReached(f"{what} would make a value larger than {limit} bytes; refused")


def _shown(value: Any) -> str:
    """An operand in a message, never in full when it is large."""
    if isinstance(value, int) and value.bit_length() > 48:
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, int | float):
        return repr(value)
    size = f" of length {len(value)}" if hasattr(value, "__len__") else ""
    return f"a {type(value).__name__}{size}"


def _binop_problem(operator: str, left: Any, right: Any, limit: int) -> str | None:
    """Why the result would be too large to compute, if it would be."""
    ints = isinstance(left, int) and isinstance(right, int)
    if ints and operator in ("**", "*"):
        if operator == "**":
            bits = right * abs(left).bit_length() if right > 0 and abs(left) > 1 else 0
        else:
            bits = abs(left).bit_length() + abs(right).bit_length()
        return f"an integer of more than {MAX_INT_BITS} bits" if bits > MAX_INT_BITS else None
    size: float = 0
    if operator == "*" and isinstance(right, int) and hasattr(left, "__len__"):
        size = len(left) * right
    elif operator == "*" and isinstance(left, int) and hasattr(right, "__len__"):
        size = left * len(right)
    elif operator == "%" and isinstance(left, str):
        size = _printf_size(left, right)
    return f"larger than {limit} bytes" if size > limit else None


def _printf_size(text: str, arguments: Any) -> float:
    values = arguments if isinstance(arguments, tuple) else (arguments,)
    numbers = [v for v in values if isinstance(v, int)]
    widths = [0]
    for found in _PRINTF.finditer(text):
        for part in found.groups():
            if part == "*":
                widths.extend(numbers)
            elif part:
                widths.append(int(part))
    return len(text) + max(widths)


def _format_size(text: str, *_args: Any, **_kwargs: Any) -> float:
    widths = [int(part) for found in _FORMAT_SPEC.finditer(text) for part in found.groups() if part]
    return len(text) + max(widths, default=0)


def _pad_size(text: str, width: Any = 0, *_args: Any, **_kwargs: Any) -> float:
    return width if isinstance(width, int) else 0


def _tabs_size(text: str, tabsize: Any = 8, *_args: Any, **_kwargs: Any) -> float:
    return len(text) + text.count("\t") * tabsize if isinstance(tabsize, int) else 0


def _replace_size(text: str, old: Any = "", new: Any = "", *_args: Any, **_kwargs: Any) -> float:
    if not isinstance(old, str) or not isinstance(new, str):
        return 0
    places = len(text) + 1 if not old else text.count(old)
    return len(text) + places * len(new)


def _indent_size(text: Any, width: Any = 4, *_args: Any, **_kwargs: Any) -> float:
    step = width if isinstance(width, int) else len(str(width))
    return len(str(text)) + (str(text).count("\n") + 1) * step


def _lipsum_size(n: Any = 5, html: Any = True, min: Any = 20, max: Any = 100) -> float:
    return n * max * 12 if isinstance(n, int) and isinstance(max, int) else 0


#: str methods that can build a large string from small arguments, and the size they would build.
_METHOD_BOUNDS: dict[str, Callable[..., float]] = {
    "ljust": _pad_size,
    "rjust": _pad_size,
    "center": _pad_size,
    "zfill": _pad_size,
    "expandtabs": _tabs_size,
    "replace": _replace_size,
    "format": _format_size,
    "format_map": _format_size,
}
#: The built-in filters that can, likewise.
_FILTER_BOUNDS: dict[str, Callable[..., float]] = {
    "center": _pad_size,
    "indent": _indent_size,
    "format": lambda text, *args, **kwargs: _printf_size(str(text), args or tuple(kwargs.values())),
    "replace": _replace_size,
}


def _bounded(
    function: Callable[..., Any], bound: Callable[..., float], limit: int, what: str
) -> Callable[..., Any]:
    """``function`` refusing arguments that would make a result over ``limit`` bytes.

    The wrapper keeps Jinja's markers (``pass_eval_context``...), so it is called as the
    original was; the bound sees the arguments after any context Jinja passes first.
    """
    passes_context = getattr(function, "jinja_pass_arg", None) is not None

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        given = args[1:] if passes_context else args
        _check(bound(*given, **kwargs), limit, what)
        return function(*args, **kwargs)

    return checked
