"""`Result`: typed, immutable result objects that the hot path can afford; their plain form.

Use cases return plain results (a tuple with named fields, ``_asdict()`` for JSON and
for the daemon's wire). `typing.NamedTuple` is the natural spelling, but importing
`typing` costs about 8.6 ms on a small machine (it imports `re`), against 8.2 ms for
all of ``python -c pass``: the hot path (`omg use` between installed versions) may not
pay it, nor `collections` (1.4 ms for namedtuple's module, and tens of microseconds
per class, which it builds with `eval`). So for the type checker `Result` *is*
`typing.NamedTuple`, and at run time it is a small stand-in that does what we use of
a NamedTuple: a class body of annotated fields (with trailing defaults) and methods
becomes a tuple subclass with a property per field, ``_fields``, ``_asdict()``,
``_replace()``, ``_make()`` and a NamedTuple's repr; it pickles and compares as a
tuple. Annotations are never evaluated (modules here use ``from __future__ import
annotations``), so they cost nothing either.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar
    from typing import NamedTuple as Result

    T = TypeVar("T")
    #: Plain data (maps, lists, text, numbers) read by a result's `SHAPES` entry as it
    #: is: a wrong shape raises (TypeError, KeyError...), which `from_plain`'s caller
    #: reports as a malformed answer. Any, because each field has its own shape.
    Plain = Any
else:
    class _Fields(tuple):
        """What every result class is at run time: a tuple with named fields."""

        __slots__ = ()
        _fields: tuple[str, ...] = ()
        _field_defaults: dict[str, object] = {}  # noqa: RUF012 (replaced per class)

        def __new__(cls, *args, **kwargs):
            fields = cls._fields
            if len(args) > len(fields):
                raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments, "
                                f"got {len(args)}")
            values = list(args)
            for name in fields[len(args):]:
                if name in kwargs:
                    values.append(kwargs.pop(name))
                elif name in cls._field_defaults:
                    values.append(cls._field_defaults[name])
                else:
                    raise TypeError(f"{cls.__name__}() is missing {name!r}")
            if kwargs:
                raise TypeError(f"{cls.__name__}() has no field {next(iter(kwargs))!r}")
            return tuple.__new__(cls, values)

        @classmethod
        def _make(cls, iterable):
            return cls(*iterable)

        def _asdict(self):
            return dict(zip(self._fields, self, strict=True))

        def _replace(self, **changes):
            return type(self)(**{**self._asdict(), **changes})

        def __getnewargs__(self):
            return tuple(self)

        def __repr__(self):
            inner = ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self, strict=True))
            return f"{type(self).__name__}({inner})"

    def _field(index, name):
        return property(lambda self: tuple.__getitem__(self, index), doc=f"field {name}")

    class _ResultMeta(type):
        def __new__(mcs, name, bases, namespace):
            if not bases:  # `Result` itself
                return super().__new__(mcs, name, bases, namespace)
            fields = tuple(namespace.get("__annotations__", {}))
            body = {k: v for k, v in namespace.items() if k not in fields}
            body.update({f: _field(i, f) for i, f in enumerate(fields)})
            body.update(__slots__=(), _fields=fields,
                        _field_defaults={f: namespace[f] for f in fields if f in namespace})
            return super().__new__(mcs, name, (_Fields,), body)

    class Result(metaclass=_ResultMeta):
        """Base of the result objects (`typing.NamedTuple` to the type checker)."""


# Plain data and back: the one conversion for ``--json`` and omgd's wire ---------------
#
# `to_plain` turns what a use case returns (Results, dataclasses, paths, tuples,
# nested) into maps, lists, strings and numbers, which `print_json` writes and
# msgpack sends. `from_plain` rebuilds a result from such data (the daemon
# backend does, from omgd's replies); what the data alone cannot say (which field
# holds which result type, which lists were tuples) each result's module states in
# `SHAPES`, right after the class, so a reply comes back as the very type the local
# use case returns.

def to_plain(value: object) -> object:
    """Results (``_asdict``), dataclasses, paths, tuples: as JSON/msgpack values."""
    if hasattr(value, "_asdict"):
        return {k: to_plain(v) for k, v in value._asdict().items()}
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [to_plain(v) for v in items]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if hasattr(value, "__fspath__"):
        return str(value)
    return value


def pairs(data: Plain) -> tuple[tuple[str, str], ...]:
    """``[[k, v], ...]`` (or a map) back to the sorted tuple of pairs a result holds."""
    items = data.items() if isinstance(data, dict) else data
    return tuple((str(k), str(v)) for k, v in items)


def many(kind: Callable[[Plain], T]) -> Callable[[Plain], list[T]]:
    return lambda data: [kind(item) for item in data]


def shaped(cls: Callable[..., T]) -> Callable[[object], T]:
    """A rebuilder of `cls` from a map, by its `SHAPES` entry."""
    return lambda data: from_plain(cls, data)


#: Result class -> {field: how to rebuild it}, for fields that are not plain data.
SHAPES: dict[object, Mapping[str, Callable[[Plain], object]]] = {}


def from_plain(cls: Callable[..., T], data: object) -> T:
    """`cls` (a `Result` or dataclass) from the map `to_plain` made of one."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a map for {getattr(cls, '__name__', cls)}, "
                         f"got {type(data).__name__}")
    shape = SHAPES.get(cls, {})
    fields = getattr(cls, "_fields", None) or getattr(cls, "__dataclass_fields__", {})
    kwargs = {}
    for name in fields:
        if name in data:
            convert = shape.get(name)
            kwargs[name] = convert(data[name]) if convert is not None else data[name]
    return cls(**kwargs)

__all__ = ["SHAPES", "Result", "from_plain", "many", "pairs", "shaped", "to_plain"]
