"""Jinja's sandbox, bounded: a book's own template can neither reach into Python nor make the build
run out of memory or time.

The sandbox alone refuses attribute access into Python (`''.__class__`) but lets a template ask for a
4 GB string (`"x" * 4000000000`, `"x"|center(10**10)`, a string doubled in a loop) or loop for hours.
Here every operation that can make a value much larger than its operands is checked before (or, for
concatenation, right after) it runs, `range` is capped, and a render has an output and a time limit.
"""
from __future__ import annotations

import re
import signal
import threading
from contextlib import contextmanager
from functools import wraps

from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_VALUE_CHARS = 64_000_000   # a string or a template's output; the 1M-character book's print HTML is ~3.5 M
MAX_NUMBER_ARGUMENT = 100_000  # a number passed to a filter or method (center(n), indent(n), batch(n) …)
MAX_RANGE = 10_000             # items of one range()
MAX_EXPONENT = 256             # of `**`
RENDER_SECONDS = 20            # one template render, includes and loops and all
# A format string asking for a field 100,000 characters wide or more, or for a width given as an argument.
WIDE_FORMAT = re.compile(r"\d{6,}|%[-#0 +]*\*")


class TemplateTimeout(Exception):
    pass


def _refuse_big_numbers(what: str, args, kwargs) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER_ARGUMENT:
            raise SecurityError(f"{what}: the number {value} is over the limit of {MAX_NUMBER_ARGUMENT:,}")


def _refuse_wide_format(what: str, text) -> None:
    if isinstance(text, str) and WIDE_FORMAT.search(text):
        raise SecurityError(f"{what}: format {text[:40]!r} asks for a field wider than the limit")


def _bounded_filter(name: str, function):
    @wraps(function)
    def bounded(*args, **kwargs):
        _refuse_big_numbers(f"filter {name}", args[1:], kwargs)
        if name == "format":
            _refuse_wide_format(f"filter {name}", args[0] if args else None)
        return _checked_size(function(*args, **kwargs))
    return bounded


def _checked_size(value):
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_VALUE_CHARS:
        raise SecurityError(f"a value of {len(value):,} items is over the limit of {MAX_VALUE_CHARS:,}")
    return value


def _bounded_range(*args):
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range of {len(numbers):,} items is over the limit of {MAX_RANGE:,}")
    return numbers


class _BoundedConcat(CodeGenerator):
    """`a ~ b` is checked after it is joined: a string doubled in a loop stops at twice the limit."""

    def visit_Concat(self, node, frame) -> None:
        self.write("environment.checked_size(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedSandbox(SandboxedEnvironment):
    code_generator_class = _BoundedConcat
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options):
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.globals["range"] = _bounded_range

    @staticmethod
    def checked_size(value):
        return _checked_size(value)

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) \
                        and len(sequence) * count > MAX_VALUE_CHARS:
                    raise SecurityError(f"repeating {len(sequence):,} items {count:,} times is over the limit "
                                        f"of {MAX_VALUE_CHARS:,}")
        if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"the exponent {right} is over the limit of {MAX_EXPONENT}")
        if operator == "%":
            _refuse_wide_format("%", left)
        return _checked_size(super().call_binop(context, operator, left, right))

    def call(self, context, obj, *args, **kwargs):
        _refuse_big_numbers(getattr(obj, "__name__", "a call"), args, kwargs)
        if getattr(obj, "__name__", "") in ("format", "format_map"):
            _refuse_wide_format("format", getattr(obj, "__self__", None))
        return _checked_size(super().call(context, obj, *args, **kwargs))


def render(template, context: dict) -> str:
    """The template's output, stopped at MAX_VALUE_CHARS characters or RENDER_SECONDS seconds."""
    size, pieces = 0, []
    with _time_limit(RENDER_SECONDS):
        for piece in template.generate(**context):
            size += len(piece)
            if size > MAX_VALUE_CHARS:
                raise SecurityError(f"the output is over the limit of {MAX_VALUE_CHARS:,} characters")
            pieces.append(piece)
    return "".join(pieces)


@contextmanager
def _time_limit(seconds: float):
    """SIGALRM interrupts a runaway loop between two Python steps. Only the main thread gets signals;
    elsewhere (there is no such caller today) the render runs without a clock."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum, _frame):
        raise TemplateTimeout(f"the template ran for over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
