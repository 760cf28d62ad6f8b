"""Results as plain data and back: the one conversion for ``--json`` and omgd's wire.

`to_plain` turns what a use case returns (`store.results.Result`s, dataclasses,
paths, tuples, nested) into maps, lists, strings and numbers, which `print_json`
writes and msgpack sends. `from_plain` rebuilds a result from such data for the
daemon backend; what it cannot know from the data alone (which field holds which
result type, which lists were tuples) each result class states once in `SHAPES`,
beside the others, so a reply always comes back as the type the local use case
returns. Light on purpose (no typing, no dataclasses at import): `omg use` through
omgd converts its reply on the hot path.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    T = TypeVar("T")


def to_plain(value: Any) -> Any:
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


def pairs(data: Any) -> tuple[tuple[str, str], ...]:
    """``[[k, v], ...]`` (or a map) back to the sorted tuple of pairs a result holds."""
    items = data.items() if isinstance(data, dict) else data
    return tuple((str(k), str(v)) for k, v in items)


def many(kind: Callable[[Any], T]) -> Callable[[Any], list[T]]:
    return lambda data: [kind(item) for item in data]


def shaped(cls: Callable[..., T]) -> Callable[[Any], T]:
    """A rebuilder of `cls` from a map, by its `SHAPES` entry."""
    return lambda data: from_plain(cls, data)


#: Result class -> {field: how to rebuild it}, for fields that are not plain data.
SHAPES: dict[Any, Mapping[str, Callable[[Any], Any]]] = {}


def from_plain(cls: Callable[..., T], data: Any) -> T:
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
