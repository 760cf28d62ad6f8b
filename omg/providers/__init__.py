"""Runtime providers: one module per runtime behind the one `Provider` interface (base.py).

`get(tool)` is the registry; modules are imported on demand so that asking for
Node does not import the Java provider.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

from omg.providers.base import Provider
from store.errors import NotFound

_MODULES = {
    "node": ("omg.providers.node", "NodeProvider"),
    "bun": ("omg.providers.bun", "BunProvider"),
    "python": ("omg.providers.python", "PythonProvider"),
    "go": ("omg.providers.go", "GoProvider"),
    "rust": ("omg.providers.rust", "RustProvider"),
    "ruby": ("omg.providers.ruby", "RubyProvider"),
    "java": ("omg.providers.java", "JavaProvider"),
}
#: Other names users type (asdf plugin names, file names).
ALIASES = {"nodejs": "node", "golang": "go", "rustc": "rust", "jdk": "java", "temurin": "java",
           "cpython": "python"}

TOOLS = tuple(_MODULES)


def canonical(tool: str) -> str:
    return ALIASES.get(tool.lower(), tool.lower())


def get(tool: str) -> Provider:
    name = canonical(tool)
    if name not in _MODULES:
        raise NotFound(f"unknown tool {tool!r}{did_you_mean(tool, TOOLS)}",
                       hint=f"omg knows {', '.join(TOOLS)}")
    module, cls = _MODULES[name]
    provider: Provider = getattr(importlib.import_module(module), cls)()
    return provider


def did_you_mean(word: str, names: Sequence[str]) -> str:
    """``: did you mean node?`` for a near miss among `names`, else ""."""
    import difflib

    close = difflib.get_close_matches(word, list(dict.fromkeys(names)), n=1, cutoff=0.6)
    return f": did you mean {close[0]}?" if close else ""
