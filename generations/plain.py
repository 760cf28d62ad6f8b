"""`plain`: a dataclass-like decorator that costs next to nothing at import.

`omg use` is timed whole-process against `python -c pass`, and importing
`dataclasses` (which pulls in `inspect`) plus generating each class with exec
costs several milliseconds. The profile layer's small value types use this
instead: fields from annotations, defaults from class attributes (`factory`
for mutable ones), ``__init__``/``__repr__``/``__eq__`` from closures, and
``frozen=True`` for hashable, immutable values. Type checkers see it as a
dataclass (PEP 681).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")

_MISSING = object()


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


if TYPE_CHECKING:
    def factory(*, default_factory: Callable[[], T]) -> T: ...
else:
    def factory(*, default_factory):
        """A fresh default per instance: ``x: list[str] = factory(default_factory=list)``."""
        return _Factory(default_factory)


def _fields(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        for name in klass.__dict__.get("__annotations__", {}):  # noqa: RUF063 (no inspect)
            if name not in names and not name.startswith("_"):
                names.append(name)
    return names


def _build(cls: Any, frozen: bool) -> Any:
    names = _fields(cls)
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
    setter = object.__setattr__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__} takes {len(names)} arguments")
        for name, value in zip(names, args, strict=False):
            setter(self, name, value)
        for name in names[len(args):]:
            if name in kwargs:
                value = kwargs.pop(name)
            else:
                value = defaults.get(name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__}: missing argument {name!r}")
                if isinstance(value, _Factory):
                    value = value.make()
            setter(self, name, value)
        if kwargs:
            raise TypeError(f"{cls.__name__}: unexpected {', '.join(kwargs)}")

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        return f"{cls.__name__}({inner})"

    def _key(self: Any) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in names)

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(_key(self) == _key(other))

    cls.__init__ = __init__
    cls.__repr__ = __repr__
    cls.__eq__ = __eq__
    cls.__plain_fields__ = tuple(names)
    if frozen:
        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise AttributeError(f"{cls.__name__} is immutable")

        def __hash__(self: Any) -> int:
            return hash(_key(self))

        cls.__setattr__ = __setattr__
        cls.__hash__ = __hash__
    else:
        cls.__hash__ = None
    for n in names:  # class attributes would shadow nothing, but keep the namespace clean
        if isinstance(defaults.get(n), _Factory):
            delattr(cls, n)
    return cls


if TYPE_CHECKING:
    @dataclass_transform(field_specifiers=(factory,))
    def plain(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any: ...
else:
    def plain(cls=None, /, *, frozen=False):
        if cls is None:
            return lambda c: _build(c, frozen)
        return _build(cls, frozen)


def asdict(obj: Any) -> Any:
    """Plain values, recursively (for ``--json``)."""
    fields = getattr(type(obj), "__plain_fields__", None)
    if fields is not None:
        return {n: asdict(getattr(obj, n)) for n in fields}
    if isinstance(obj, dict):
        return {k: asdict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [asdict(v) for v in obj]
    return obj
