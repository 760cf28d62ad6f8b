"""The one error hierarchy of omg.

Every expected failure is an `OmgError` with a user-facing message, an exit code
and an optional hint. Layers above subclass these; the CLI alone turns them into
``error: ...`` lines. Foreign exceptions are translated at the boundary with
``raise SomeError(...) from exc`` so the cause survives for ``--debug``.
"""

from __future__ import annotations


class OmgError(Exception):
    """Base class: `message` is one line meant for the user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(OmgError):
    """Malformed arguments: a bad spec, a profile name with a slash."""

    exit_code = 2


class NotFound(OmgError):
    """An unknown tool, version, store path, generation or package."""

    exit_code = 3


class Busy(OmgError):
    """A lock could not be taken in time."""

    exit_code = 4


class IntegrityError(OmgError):
    """Content does not match its hash, or an archive or index is corrupt."""

    exit_code = 5


class NetworkError(OmgError):
    """A download or remote query failed."""

    exit_code = 6


class UnsafeInput(OmgError):
    """Input that tries to escape its sandbox or exceeds a configured limit."""

    exit_code = 7


class BuildFailed(OmgError):
    """An external build (makepkg) failed."""

    exit_code = 8


class PermissionDenied(OmgError):
    """The caller may not do this (shared store, another user's profile)."""

    exit_code = 9


class DaemonUnavailable(OmgError):
    """omgd cannot be reached: no socket, nobody listening, a hang-up, a garbled reply.

    Its own code, not `Busy` (4): retrying will not help until someone starts omgd.
    """

    exit_code = 10


class PolicyDenied(OmgError):
    """A `[policy]` rule denies this (a vulnerable, end-of-life, outdated or unsigned
    version, or an AUR build): refused before anything changes."""

    exit_code = 11


class FormatTooNew(IntegrityError):
    """An on-disk format newer than this code understands: refuse, never misread."""


class Interrupted(OmgError):
    """Ctrl-C or SIGTERM during an operation."""

    exit_code = 130
