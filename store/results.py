"""`Result`: typed, immutable result objects that the hot path can afford.

Use cases return plain results (a tuple with named fields, ``_asdict()`` for JSON and
for the daemon's wire). `typing.NamedTuple` is the natural spelling, but importing
`typing` costs about 8.6 ms on a small machine (it imports `re`), against 8.2 ms for
all of ``python -c pass``: the hot path (`omg use` between installed versions) may not
pay it. So for the type checker `Result` *is* `typing.NamedTuple`, and at run time it
is a stand-in built on `collections.namedtuple` (1.6 ms, and already loaded by most
commands), doing the one thing NamedTuple's metaclass does for us: a class body of
annotated fields (with trailing defaults) and methods becomes a namedtuple class.
Annotations are never evaluated (modules here use ``from __future__ import
annotations``), so they cost nothing either.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as Result
else:
    from collections import namedtuple

    class _ResultMeta(type):
        def __new__(mcs, name, bases, namespace):
            if not bases:  # `Result` itself
                return super().__new__(mcs, name, bases, namespace)
            fields = list(namespace.get("__annotations__", {}))
            defaults = [namespace[f] for f in fields if f in namespace]
            cls = namedtuple(name, fields, defaults=defaults or None,
                             module=namespace.get("__module__"))
            for key, value in namespace.items():
                if key not in fields and key not in ("__module__", "__qualname__",
                                                     "__annotations__", "__dict__"):
                    setattr(cls, key, value)
            cls.__qualname__ = namespace.get("__qualname__", name)
            return cls

    class Result(metaclass=_ResultMeta):
        """Base of the result objects (`typing.NamedTuple` to the type checker)."""

__all__ = ["Result"]
