"""Settings: one frozen object built once from the environment and the config file.

Precedence: environment variables, then ``$XDG_CONFIG_HOME/omg/config.toml``
(or ``OMG_CONFIG``), then ``/etc/omg/config.toml``, then defaults. Nothing here
is global: the CLI builds a `Settings` and passes it down. Light to import
(no archive readers, no dataclasses): the fast path of `omg use` loads it.

Every `load` checks the whole of each config file against `SCHEMA` and the
variables it parses against `ENV_SCHEMA`, whatever the command needs of them:
a setting of the wrong type is a `UsageError` naming it (``[store] max_files``,
``OMG_MAX_FILES``) and what it must be, never a crash deep in the command that
reads it; an unknown key is a ``warning:`` line. docs/config.md lists
every setting. What `load` returns is typed by what it checked: `Config`, one
TypedDict per section, so a reader gets ``settings.raw.get("network", {}).get("retries")``
as an ``int | None``.
"""

# No `from __future__ import annotations` here, on purpose: see omg/fast.py.
import math
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple, TypedDict, TypeGuard, cast

from omg import locate
from store.errors import UsageError
from store.layout import Layout
from store.limits import DEFAULT_LIMITS, Limits

# The config file, as `load` has checked it against `SCHEMA` (tests/test_settings.py
# keeps the two in step). Every key is optional; `load` keeps unknown keys (it warns
# of them), which these types do not name.


class StoreConfig(TypedDict, total=False):
    max_unpacked_bytes: int
    max_files: int
    max_depth: int


class NetworkConfig(TypedDict, total=False):
    retries: int
    backoff: float
    timeout: float
    jobs: int
    index_ttl: float
    unreachable_ttl: float


class MirrorsConfig(TypedDict, total=False):
    node: str
    bun: str
    bun_api: str
    python: str
    python_api: str
    go: str
    rust: str
    ruby: str
    ruby_api: str
    java: str
    endoflife: str
    node_vulns: str  # the vulnerability feeds (omg.audit.feeds)
    go_vulns: str
    python_vulns: str
    ruby_vulns: str
    arch_security: str


class KeyringsConfig(TypedDict, total=False):
    node: str
    bun: str
    go: str
    rust: str
    java: str


class SignaturesConfig(TypedDict, total=False):
    policy: str


class PolicyConfig(TypedDict, total=False):
    vulnerable: str
    eol: str
    outdated: str
    unsigned: str
    min_severity: str
    aur: str


class DaemonConfig(TypedDict, total=False):
    socket: str
    gc_group: str
    trusted_users: list[str]
    max_frame: int
    max_reply: int
    handshake_timeout: float
    frame_timeout: float
    idle_timeout: float
    send_timeout: float
    max_clients: int
    max_clients_per_uid: int
    shutdown_grace: float
    max_incoming_bytes: int


class ArchConfig(TypedDict, total=False):
    pacman_conf: str
    root: str
    dbpath: str
    aur_url: str
    build_user: str
    build_dir: str
    aur_cache_ttl: float
    makepkg_args: list[str]
    review_findings: str
    sandbox: bool
    keyserver: str
    import_keys: bool


class GcConfig(TypedDict, total=False):
    keep_generations: int
    keep_days: float
    cache_max_age_days: float
    cache_max_bytes: int


class CacheConfig(TypedDict, total=False):
    substituters: list[str]
    trusted_keys: list[str]
    timeout: float


class Config(TypedDict, total=False):
    home: str
    groups: dict[str, list[str]]
    store: StoreConfig
    network: NetworkConfig
    mirrors: MirrorsConfig
    keyrings: KeyringsConfig
    signatures: SignaturesConfig
    policy: PolicyConfig
    daemon: DaemonConfig
    arch: ArchConfig
    gc: GcConfig
    cache: CacheConfig


_EMPTY: Mapping[str, str] = MappingProxyType({})
#: Read-only like every Settings field (a TypedDict is a dict to the type checker).
_NO_CONFIG = cast(Config, MappingProxyType({}))


class Settings(NamedTuple):
    home: Path
    user: str
    limits: Limits = DEFAULT_LIMITS
    mirrors: Mapping[str, str] = _EMPTY
    raw: Config = _NO_CONFIG

    @property
    def layout(self) -> Layout:
        return Layout(self.home)

    def mirror(self, tool: str, default: str) -> str:
        """A provider's base URL: OMG_<TOOL>_MIRROR, then [mirrors] in config, then upstream."""
        env = os.environ.get(f"OMG_{tool.upper()}_MIRROR")
        return (env or self.mirrors.get(tool) or default).rstrip("/")


current_user = locate.current_user


# The schema -----------------------------------------------------------------------------


class Kind(NamedTuple):
    """What one setting must be; `what` is said in errors and in docs/config.md."""

    what: str
    ok: Callable[[object], bool]  # judges a value from a config file (TOML types)
    #: A variable's text -> a value for `ok` (or ValueError).
    parse: Callable[[str], int | float | str] = str
    #: For a table whose keys are the user's names (``[groups]``): what each key holds.
    item: "Kind | None" = None


def _integer(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: object) -> TypeGuard[float]:
    return (_integer(v) or isinstance(v, float)) and math.isfinite(v)


def _absolute(v: object) -> bool:
    return isinstance(v, str) and os.path.isabs(v)


POSITIVE_INT = Kind("a positive integer", lambda v: _integer(v) and v > 0, int)
COUNT = Kind("an integer >= 0", lambda v: _integer(v) and v >= 0, int)
SECONDS = Kind("a number of seconds > 0", lambda v: _number(v) and v > 0, float)
SECONDS_OR_ZERO = Kind("a number of seconds >= 0", lambda v: _number(v) and v >= 0, float)
STRING = Kind("a string", lambda v: isinstance(v, str))
STRINGS = Kind("a list of strings",
               lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v))
PATH = Kind("an absolute path", _absolute)
#: Read through expanduser: ``~/...`` is absolute too.
HOME_PATH = Kind("an absolute path (~ allowed)",
                 lambda v: isinstance(v, str) and _absolute(os.path.expanduser(v)))
LIBC = Kind("gnu or musl", lambda v: v in ("gnu", "musl"))
#: A mirror's base URL: what httpx can fetch (omg.net reads no file://), one line (a
#: config file is input too).
URL = Kind("a URL (http:// or https://)",
           lambda v: isinstance(v, str) and v.startswith(("http://", "https://"))
           and v.isprintable() and " " not in v)
BOOL = Kind("true or false", lambda v: isinstance(v, bool))
#: A PGP keyserver: HKP(S), as gpg names them, or plain HTTP(S).
KEYSERVER = Kind("a keyserver URL (hkps://, hkp://, https:// or http://)",
                 lambda v: isinstance(v, str) and v.startswith(("hkps://", "hkp://", "https://",
                                                                 "http://"))
                 and v.isprintable() and " " not in v)
DAYS = Kind("a number of days >= 0", lambda v: _number(v) and v >= 0, float)
#: omg.signatures.POLICIES (not imported: this module is on the fast path).
POLICY = Kind("require, when-available or off",
              lambda v: v in ("require", "when-available", "off"))
#: omg.arch.review: what a high finding of the static check does.
FINDINGS = Kind("warn or deny", lambda v: v in ("warn", "deny"))
#: omg.audit.policy.ACTIONS, AUR_ACTIONS and omg.audit.finding.SEVERITIES (not
#: imported: the engine loads dataclasses).
ACTION = Kind("allow, warn or deny", lambda v: v in ("allow", "warn", "deny"))
AUR_ACTION = Kind("review or deny", lambda v: v in ("review", "deny"))
SEVERITY = Kind("unknown, low, medium, high or critical",
                lambda v: v in ("unknown", "low", "medium", "high", "critical"))



def cache_url(v: object) -> bool:
    """A binary cache's URL (omg/cache/storage.py opens it): one line, no spaces."""
    return isinstance(v, str) and v.startswith(("file://", "http://", "https://", "s3://")) \
        and v.isprintable() and " " not in v


def substituters(settings: Settings, environ: Mapping[str, str] = os.environ
                 ) -> tuple[list[str], list[str]]:
    """(substituter URLs, trusted key texts) of this process: ``OMG_SUBSTITUTERS`` and
    ``OMG_TRUSTED_KEYS`` (space-separated) over ``[cache]``. Here, not in omg.cache:
    an install asks it first, and imports the cache code only when one is set."""
    cfg = settings.raw.get("cache", {})
    urls = environ.get("OMG_SUBSTITUTERS")
    keys = environ.get("OMG_TRUSTED_KEYS")
    return (urls.split() if urls is not None else list(cfg.get("substituters", [])),
            keys.split() if keys is not None else list(cfg.get("trusted_keys", [])))


CACHE_URLS = Kind("a list of cache URLs (file://, http://, https://, s3://)",
                  lambda v: isinstance(v, list) and all(cache_url(u) for u in v))
#: `NAME:BASE64` public keys, as `omg cache keygen` prints them (checked when used).
KEYS = Kind("a list of public keys NAME:BASE64",
            lambda v: isinstance(v, list) and all(isinstance(k, str) and ":" in k for k in v))

_GROUP_NAME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def valid_group_name(name: str) -> bool:
    """A `[groups]` name (`omg.groups`): one word, as ``@NAME`` names it on a command line."""
    return 0 < len(name) <= 64 and name[0] != "-" and set(name) <= _GROUP_NAME


#: One group of `[groups]` (`omg.groups`).
GROUP = Kind("a list of specs (TOOL@VERSION, aur/NAME, @GROUP)", STRINGS.ok)
GROUPS = Kind("a table of groups: NAME = [specs], names of a-z A-Z 0-9 _ -",
              lambda v: isinstance(v, dict) and all(
                  isinstance(k, str) and valid_group_name(k) and GROUP.ok(x)
                  for k, x in v.items()),
              item=GROUP)

#: The keys of ``[mirrors]`` and ``[keyrings]`` (and their ``OMG_<KEY>_MIRROR`` and
#: ``OMG_<KEY>_KEYRING`` variables).
MIRRORS = ("node", "bun", "bun_api", "python", "python_api", "go", "rust", "ruby",
           "ruby_api", "java", "endoflife", "node_vulns", "go_vulns", "python_vulns",
           "ruby_vulns", "arch_security")
KEYRINGS = ("node", "bun", "go", "rust", "java")

#: Every config file key: top-level scalars, and tables of keys. Providers read
#: `[mirrors]` by tool (and ``<tool>_api`` for the GitHub release APIs; ``endoflife``
#: for the support data, `omg.support`; the vulnerability feeds, `omg.audit.feeds`);
#: tests/test_settings.py keeps these names in step with the code that reads them.
SCHEMA: Mapping[str, Kind | Mapping[str, Kind]] = {
    "home": HOME_PATH,
    "groups": GROUPS,
    "store": {"max_unpacked_bytes": POSITIVE_INT, "max_files": POSITIVE_INT,
              "max_depth": POSITIVE_INT},
    "network": {"retries": COUNT, "backoff": SECONDS_OR_ZERO, "timeout": SECONDS,
                "jobs": POSITIVE_INT, "index_ttl": SECONDS_OR_ZERO,
                "unreachable_ttl": SECONDS_OR_ZERO},
    "mirrors": {name: URL for name in MIRRORS},
    "keyrings": {name: HOME_PATH for name in KEYRINGS},
    "signatures": {"policy": POLICY},
    "policy": {"vulnerable": ACTION, "eol": ACTION, "outdated": ACTION, "unsigned": ACTION,
               "min_severity": SEVERITY, "aur": AUR_ACTION},
    "daemon": {"socket": PATH, "gc_group": STRING, "trusted_users": STRINGS,
               "max_frame": POSITIVE_INT, "max_reply": POSITIVE_INT,
               "handshake_timeout": SECONDS, "frame_timeout": SECONDS,
               "idle_timeout": SECONDS, "send_timeout": SECONDS,
               "max_clients": POSITIVE_INT, "max_clients_per_uid": POSITIVE_INT,
               "shutdown_grace": SECONDS_OR_ZERO, "max_incoming_bytes": POSITIVE_INT},
    "arch": {"pacman_conf": PATH, "root": PATH, "dbpath": PATH, "aur_url": STRING,
             "build_user": STRING, "build_dir": PATH, "aur_cache_ttl": SECONDS_OR_ZERO,
             "makepkg_args": STRINGS, "review_findings": FINDINGS, "sandbox": BOOL,
             "keyserver": KEYSERVER, "import_keys": BOOL},
    "gc": {"keep_generations": COUNT, "keep_days": DAYS, "cache_max_age_days": DAYS,
           "cache_max_bytes": COUNT},
    "cache": {"substituters": CACHE_URLS, "trusted_keys": KEYS, "timeout": SECONDS},
}

#: The variables that are not plain strings (empty means unset). Kept equal to
#: `omg.locate.PARSED_VARIABLES`, so the fast paths hand them to `load`.
ENV_SCHEMA: Mapping[str, Kind] = {
    "OMG_MAX_UNPACKED_BYTES": POSITIVE_INT,
    "OMG_MAX_FILES": POSITIVE_INT,
    "OMG_MAX_DEPTH": POSITIVE_INT,
    "OMG_NET_RETRIES": COUNT,
    "OMG_NET_BACKOFF": SECONDS_OR_ZERO,
    "OMG_NET_TIMEOUT": SECONDS,
    "OMG_NET_JOBS": POSITIVE_INT,
    "OMG_INDEX_TTL": SECONDS_OR_ZERO,
    "OMG_NET_UNREACHABLE_TTL": SECONDS_OR_ZERO,
    "OMG_AUR_TTL": SECONDS_OR_ZERO,
    "OMG_LIBC": LIBC,
    "OMG_SIGNATURES": POLICY,
}

#: The variables that are plain text standing for a checked key ("a variable holds the
#: same types as text", docs/config.md): a bad one is the usage error the key would be,
#: not a failed download or a socket in the current directory later. `OMG_HOME` may be
#: relative (docs/config.md, "The home"). Kept equal to `omg.config_edit.variable_of`.
STRING_VARIABLES: Mapping[str, Kind] = {
    "OMG_SOCKET": PATH, "OMG_PACMAN_CONF": PATH, "OMG_PACMAN_ROOT": PATH,
    "OMG_PACMAN_DBPATH": PATH, "OMG_BUILD_DIR": PATH,
    **{f"OMG_{name.upper()}_MIRROR": URL for name in MIRRORS},
    **{f"OMG_{name.upper()}_KEYRING": HOME_PATH for name in KEYRINGS},
}


def _bad(where: str, kind: Kind, value: object, hint: str) -> UsageError:
    return UsageError(f"{where}: expected {kind.what}, got {value!r}", hint=hint)


def check_file(data: Mapping[str, object], path: str) -> list[str]:
    """Check one parsed config file against `SCHEMA`; the unknown keys, as warnings."""
    hint = f"fix it in {path} (docs/config.md lists every setting)"
    unknown: list[str] = []
    for key, value in data.items():
        kind = SCHEMA.get(key)
        if kind is None:
            what = f"section [{key}]" if isinstance(value, dict) else f"key {key}"
            unknown.append(f"{path}: unknown {what}, ignored")
        elif isinstance(kind, Kind):
            if not kind.ok(value):
                raise _bad(f"{path}: {key}", kind, value, hint)
        elif not isinstance(value, dict):
            raise UsageError(f"{path}: [{key}]: expected a table, got {value!r}", hint=hint)
        else:
            for sub, sub_value in value.items():
                sub_kind = kind.get(sub)
                if sub_kind is None:
                    unknown.append(f"{path}: unknown key [{key}] {sub}, ignored")
                elif not sub_kind.ok(sub_value):
                    raise _bad(f"{path}: [{key}] {sub}", sub_kind, sub_value, hint)
    return unknown


def check_environment(env: Mapping[str, str]) -> dict[str, int | float | str]:
    """The set variables of `ENV_SCHEMA`, parsed, and those of `STRING_VARIABLES`
    checked; a UsageError names a bad one."""
    parsed: dict[str, int | float | str] = {}
    for name, kind in ENV_SCHEMA.items():
        text = env.get(name)
        if not text:
            continue
        try:
            value = kind.parse(text)
            good = kind.ok(value)
        except ValueError:
            good = False
        if not good:
            raise _bad(name, kind, text, f"unset {name} or set it to {kind.what}")
        parsed[name] = value
    for name, kind in STRING_VARIABLES.items():
        text = env.get(name)
        if text and not kind.ok(text):
            raise _bad(name, kind, text, f"unset {name} or set it to {kind.what}")
    return parsed


# Loading ---------------------------------------------------------------------------------

#: Warnings already printed by this process: `load` runs again when a fast path
#: hands over to the full CLI, and one unknown key is worth one line.
_warned: set[str] = set()


def warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        sys.stderr.write(f"warning: {message}\n")


def read_file(path: Path) -> dict[str, object]:
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, PermissionError):
        return {}
    import tomllib

    try:
        return tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: invalid config file: {exc}") from exc


def load(environ: Mapping[str, str] | None = None, *,
         warn: Callable[[str], None] = warn_once) -> Settings:
    """The settings of this environment; `warn` gets each unknown key's line."""
    env = os.environ if environ is None else environ
    merged: dict[str, object] = {}
    for path in map(Path, locate.config_files(env)):
        data = read_file(path)
        for message in check_file(data, str(path)):
            warn(message)
        for key, value in data.items():
            old = merged.get(key)
            if isinstance(value, dict) and isinstance(old, dict):
                merged[key] = {**old, **value}
            else:
                merged[key] = value
    config = cast(Config, merged)  # each file checked against SCHEMA just above
    variables = check_environment(env)
    store_cfg = config.get("store", {})

    def pick(var: str, configured: int | None, default: int) -> int:
        value = variables.get(var, configured)
        return default if value is None else int(value)

    limits = Limits(
        max_bytes=pick("OMG_MAX_UNPACKED_BYTES", store_cfg.get("max_unpacked_bytes"),
                       DEFAULT_LIMITS.max_bytes),
        max_files=pick("OMG_MAX_FILES", store_cfg.get("max_files"), DEFAULT_LIMITS.max_files),
        max_depth=pick("OMG_MAX_DEPTH", store_cfg.get("max_depth"), DEFAULT_LIMITS.max_depth),
    )
    mirrors = {k: v for k, v in config.get("mirrors", {}).items() if isinstance(v, str)}
    return Settings(home=Path(locate.home(config, env)), user=current_user(), limits=limits,
                    mirrors=mirrors, raw=config)
