"""`omg config list|get|set|unset`: the settings as omg sees them, and edits of the
user's config file that keep its comments and layout (tomlkit).

A key is written as ``section.key`` (``network.retries``) or ``home``. `set` checks
the value against the key's type in `omg.config.SCHEMA` and then the whole edited
file with `omg.config.check_file` before it replaces the file (atomically), so a
bad value is a usage error that leaves the file as it was, exactly as a bad value
written by hand is on the next run.
"""

from __future__ import annotations

import os
from pathlib import Path

from omg import config, locate
from store.errors import UsageError
from store.results import Result

#: The variable that overrides each key (docs/config.md's tables; a test keeps
#: the two in step). Mirrors and keyrings follow one rule each: ``mirrors.X`` <-
#: ``OMG_X_MIRROR``, ``keyrings.X`` <- ``OMG_X_KEYRING``.
VARIABLES = {
    "home": "OMG_HOME",
    "store.max_unpacked_bytes": "OMG_MAX_UNPACKED_BYTES",
    "store.max_files": "OMG_MAX_FILES",
    "store.max_depth": "OMG_MAX_DEPTH",
    "network.retries": "OMG_NET_RETRIES",
    "network.backoff": "OMG_NET_BACKOFF",
    "network.timeout": "OMG_NET_TIMEOUT",
    "network.jobs": "OMG_NET_JOBS",
    "network.index_ttl": "OMG_INDEX_TTL",
    "network.unreachable_ttl": "OMG_NET_UNREACHABLE_TTL",
    "signatures.policy": "OMG_SIGNATURES",
    "daemon.socket": "OMG_SOCKET",
    "arch.pacman_conf": "OMG_PACMAN_CONF",
    "arch.root": "OMG_PACMAN_ROOT",
    "arch.dbpath": "OMG_PACMAN_DBPATH",
    "arch.aur_url": "OMG_AUR_URL",
    "arch.aur_cache_ttl": "OMG_AUR_TTL",
    "arch.build_user": "OMG_BUILD_USER",
    "arch.build_dir": "OMG_BUILD_DIR",
    "cache.substituters": "OMG_SUBSTITUTERS",
    "cache.trusted_keys": "OMG_TRUSTED_KEYS",
}


class ConfigEntry(Result):
    key: str  # section.key, or a top-level key
    value: object  # the value in effect; None when only the default applies
    source: str  # the variable, the file, or "default"
    type: str  # what the value must be (`omg.config.Kind.what`)
    variable: str  # the variable that overrides it, or ""


def variable_of(key: str) -> str:
    section, _, name = key.rpartition(".")
    if section in ("mirrors", "keyrings"):
        return f"OMG_{name.upper()}_{section[:-1].upper()}"
    return VARIABLES.get(key, "")


def kind_of(key: str) -> config.Kind:
    """The type of `key`; a key omg does not know is a usage error naming the known ones."""
    section, _, name = key.rpartition(".")
    found = config.SCHEMA.get(section or name)
    if section and found is not None and not isinstance(found, config.Kind):
        sub = found.get(name)
        if sub is not None:
            return sub
    elif not section and isinstance(found, config.Kind):
        return found
    elif section and isinstance(found, config.Kind) and found.item is not None \
            and found.ok({name: []}):  # a name of the user's own (``groups.dev``)
        return found.item
    raise UsageError(f"unknown setting {key!r}",
                     hint="omg config list shows every setting (docs/config.md)")


def all_keys() -> list[str]:
    keys = []
    for name, kind in config.SCHEMA.items():
        if isinstance(kind, config.Kind):
            keys.append(name)
        else:
            keys += [f"{name}.{sub}" for sub in kind]
    return keys


def _lookup(data: dict[str, object], key: str) -> object:
    section, _, name = key.rpartition(".")
    table = data.get(section, {}) if section else data
    return table.get(name) if isinstance(table, dict) else None


def entries(environ: os._Environ[str] | dict[str, str] = os.environ) -> list[ConfigEntry]:
    """Every setting: its value in effect and where it comes from (variable, file, default)."""
    files = [(path, config.read_file(Path(path)))
             for path in reversed(locate.config_files(environ))]  # the user's file first
    out = []
    for key in all_keys():
        kind, var = kind_of(key), variable_of(key)
        if var and environ.get(var):
            out.append(ConfigEntry(key, environ[var], var, kind.what, var))
            continue
        for path, data in files:
            value = _lookup(data, key)
            if value is not None:
                out.append(ConfigEntry(key, value, path, kind.what, var))
                break
        else:
            out.append(ConfigEntry(key, None, "default", kind.what, var))
    return out


def parse_value(key: str, text: str) -> object:
    """`text` as the key's type: a TOML value (``3``, ``2.5``, ``["a"]``, ``"x"``), or a
    bare string where the key takes one."""
    import tomllib

    kind = kind_of(key)
    try:
        value: object = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    if not kind.ok(value) and kind.ok(text):
        value = text  # `omg config set mirrors.node 20` means the string
    if not kind.ok(value):
        raise UsageError(f"{key}: expected {kind.what}, got {text!r}")
    return value


def user_file(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    return Path(locate.config_files(environ)[1])


def set_value(key: str, text: str, environ: os._Environ[str] | dict[str, str] = os.environ
              ) -> Path:
    """Write `key` = `text` into the user's config file; the file written."""
    value = parse_value(key, text)
    return _edit(key, value, environ)


def unset(key: str, environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    kind_of(key)
    return _edit(key, None, environ)


def _edit(key: str, value: object, environ: os._Environ[str] | dict[str, str]) -> Path:
    import tomlkit

    from store.fsutil import atomic_write

    path = user_file(environ)
    try:
        doc = tomlkit.parse(path.read_text())
    except FileNotFoundError:
        doc = tomlkit.document()
    except (UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
        raise UsageError(f"{path}: invalid config file: {exc}",
                         hint="fix it by hand first; omg config does not rewrite what it "
                              "cannot read") from exc
    section, _, name = key.rpartition(".")
    table = doc
    if section:
        if section not in doc:
            if value is None:
                return path
            doc[section] = tomlkit.table()
        table = doc[section]
    if value is None:
        table.pop(name, None)
        if section and not doc[section]:
            del doc[section]
    else:
        table[name] = value
    config.check_file(doc.unwrap(), str(path))  # the whole file, as every run checks it
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, tomlkit.dumps(doc).encode(), 0o644)
    return path
