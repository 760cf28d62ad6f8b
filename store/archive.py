"""Archive readers: every supported format as one stream of `Member`s.

Readers only decode; they make no safety decisions (that is `store.unpack`'s
job), so each new format cannot weaken the checks. Tar-based formats are read
in one forward pass (decompressed ahead in a thread, see `store.prefetch`),
never holding a whole member in memory; member data is read in place into the
unpacker's buffer (`Content.readinto`). The
decompressors and tarfile/zipfile are imported only by the functions that read
those formats, so adding a directory (a profile env, `omg store add DIR`)
does not pay for them.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO, Protocol, cast

from store.errors import IntegrityError, NotFound, UsageError

if TYPE_CHECKING:
    import tarfile
    import zipfile

    from _typeshed import WriteableBuffer


class MemberKind(Enum):
    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    SPECIAL = "special"  # device nodes, FIFOs, sockets: always refused


class Content(Protocol):
    """A member's bytes: `readinto` lets the unpacker reuse one buffer for every file."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readinto(self, buffer: WriteableBuffer, /) -> int: ...


class _Blocks(Content, Protocol):
    """A tar stream: readable, and skippable forward (all tarfile needs to read in order)."""

    def tell(self) -> int: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...


def _content(fobj: IO[bytes]) -> Content:
    """The file objects of open(), zipfile and tarfile are io.BufferedIOBase, which
    has readinto; typeshed's IO does not say so."""
    return cast(Content, fobj)


@dataclass
class Member:
    """One archive entry; `stream` is readable only until the next member is taken."""

    name: str
    kind: MemberKind
    mode: int = 0o644
    size: int = 0
    target: str = ""
    stream: Content | None = None


class Format(Enum):
    TAR_GZ = "tar.gz"
    TAR_XZ = "tar.xz"
    TAR_BZ2 = "tar.bz2"
    TAR_ZST = "tar.zst"
    TAR = "tar"
    ZIP = "zip"
    DIRECTORY = "directory"


_MAGIC = (
    (b"\x1f\x8b", Format.TAR_GZ),
    (b"\xfd7zXZ\x00", Format.TAR_XZ),
    (b"BZh", Format.TAR_BZ2),
    (b"\x28\xb5\x2f\xfd", Format.TAR_ZST),
    (b"PK\x03\x04", Format.ZIP),
    (b"PK\x05\x06", Format.ZIP),
)

#: Members of an Arch package that describe it rather than belong to its tree.
PACKAGE_METADATA = frozenset({".PKGINFO", ".BUILDINFO", ".MTREE", ".INSTALL", ".CHANGELOG"})


@cache
def corrupt_errors() -> tuple[type[BaseException], ...]:
    """Errors the decompressors and parsers raise on damaged input.

    A function, so the readers are imported only once an error is being
    matched (``except corrupt_errors() as exc`` evaluates it only then).
    """
    import lzma
    import tarfile
    import zipfile
    import zlib

    return (tarfile.TarError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError,
            EOFError, ValueError)


#: The largest empty tar: its end-of-archive blocks padded to one 20-block record.
EMPTY_TAR_MAX = 10240
FORMATS_HINT = ("omg reads .tar.gz, .tar.xz, .tar.bz2, .tar.zst, .zip, .pkg.tar.* and "
                "directories")


def sniff(head: bytes, size: int) -> Format | None:
    """The archive format of a file of `size` bytes starting with `head` (its first
    512 bytes, or all of it), or None when it is none we read.

    Zeros are an empty tar only in a file as small as one: a large file of zeros
    (a sparse file, a wiped disk image) is not an archive.
    """
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if len(head) >= 262 and head[257:262] == b"ustar":
        return Format.TAR
    if len(head) == 512 and not any(head) and size <= EMPTY_TAR_MAX:
        return Format.TAR
    return None


def detect_format(path: Path) -> Format:
    """By content (magic bytes), so a misnamed file is still read correctly."""
    try:
        if path.is_dir():
            return Format.DIRECTORY
        with open(path, "rb") as f:
            head = f.read(512)
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        raise NotFound(f"no such file or directory: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    fmt = sniff(head, size)
    if fmt is None:
        raise UsageError(f"{path.name}: not a supported archive", hint=FORMATS_HINT)
    return fmt


def is_package_name(path: Path) -> bool:
    """Arch packages are told apart by name: their tree root is not stripped."""
    return ".pkg.tar" in path.name


@contextlib.contextmanager
def open_members(path: Path, fmt: Format | None = None) -> Iterator[Iterator[Member]]:
    """Open `path` and yield an iterator over its members, closing it afterwards."""
    fmt = fmt or detect_format(path)
    if fmt is Format.DIRECTORY:
        yield _directory_members(path)
        return
    if fmt is Format.ZIP:
        import zipfile

        try:
            zf = zipfile.ZipFile(path)
        except corrupt_errors() as exc:
            raise IntegrityError(f"{path.name}: corrupt zip archive: {exc}") from exc
        with zf:
            yield _zip_members(zf, path.name)
        return
    from store.prefetch import GzStream, Prefetch, XzStream

    with open(path, "rb") as raw:
        stream: BinaryIO
        if fmt is Format.TAR_ZST:
            import zstandard

            stream = zstandard.ZstdDecompressor().stream_reader(raw)
        elif fmt is Format.TAR_XZ:
            stream = XzStream(raw)  # type: ignore[assignment]
        elif fmt is Format.TAR_BZ2:
            import bz2

            stream = bz2.BZ2File(raw)  # type: ignore[assignment]
        elif fmt is Format.TAR_GZ:
            stream = GzStream(raw)  # type: ignore[assignment]
        else:
            yield _tar_members(raw, path.name)
            return
        ahead = Prefetch(stream)
        try:
            yield _tar_members(ahead, path.name)
        finally:
            ahead.close()


def _tar_members(stream: _Blocks, label: str) -> Iterator[Member]:
    """Members of a tar stream, their data read straight from `stream`.

    tarfile parses the headers (ustar, GNU and pax, long names, base-256
    sizes) through its plain, non-stream mode: `stream` only has to read, tell
    and skip forward, which a sequential pass never violates. The data of a
    regular member is not read through tarfile's extractfile (a buffered reader
    over a re-joined block buffer: three copies per chunk) but as a bounded
    view of `stream`; sparse members, whose data needs the sparse map, still go
    through extractfile.
    """
    import tarfile

    try:
        tf = tarfile.TarFile(fileobj=cast(IO[bytes], stream), mode="r")
        for ti in tf:
            fobj: Content | None = None
            if ti.isreg():
                kind = MemberKind.FILE
                sparse = tf.extractfile(ti) if ti.issparse() else None
                fobj = _content(sparse) if sparse else _TarData(stream, ti.size)
            elif ti.isdir():
                kind = MemberKind.DIRECTORY
            elif ti.issym():
                kind = MemberKind.SYMLINK
            elif ti.islnk():
                kind = MemberKind.HARDLINK
            else:
                kind = MemberKind.SPECIAL
            yield Member(ti.name, kind, ti.mode, ti.size, ti.linkname, fobj)
    except corrupt_errors() as exc:
        raise IntegrityError(f"{label}: corrupt or truncated archive: {_why(exc)}") from exc
    except Exception as exc:  # zstandard raises its own ZstdError
        if type(exc).__name__ == "ZstdError":
            raise IntegrityError(f"{label}: corrupt or truncated archive: {_why(exc)}") from exc
        raise


class _TarData:
    """The `size` bytes of one tar member, read in place from the archive stream.

    Ending early is "unexpected end of data" (tarfile.ReadError), as tarfile's
    own reader says, so a truncated archive is reported, never silently short.
    """

    def __init__(self, stream: _Blocks, size: int) -> None:
        self._stream = stream
        self._left = size

    def _short(self) -> tarfile.ReadError:
        import tarfile

        return tarfile.ReadError("unexpected end of data")

    def read(self, size: int = -1, /) -> bytes:
        want = self._left if size < 0 else min(size, self._left)
        if want <= 0:
            return b""
        data = self._stream.read(want)
        if not data:
            raise self._short()
        self._left -= len(data)
        return data

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._left)
        if want <= 0:
            return 0
        n = self._stream.readinto(view[:want])
        if not n:
            raise self._short()
        self._left -= n
        return n


def _zip_members(zf: zipfile.ZipFile, label: str) -> Iterator[Member]:
    try:
        for info in zf.infolist():
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                target = zf.read(info).decode("utf-8", "surrogateescape")
                yield Member(info.filename, MemberKind.SYMLINK, 0o777, 0, target)
            elif info.is_dir():
                yield Member(info.filename, MemberKind.DIRECTORY, 0o755)
            elif stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                # No type bits at all is a file: ZipFile.writestr(name, data) sets
                # only 0o600, and DOS-made archives set nothing.
                yield Member(info.filename, MemberKind.SPECIAL, mode)
            else:
                with zf.open(info) as fobj:
                    yield Member(info.filename, MemberKind.FILE, (mode & 0o7777) or 0o644,
                                 info.file_size, "", _content(fobj))
    except corrupt_errors() as exc:
        raise IntegrityError(f"{label}: corrupt zip archive: {_why(exc)}") from exc


def _directory_members(root: Path) -> Iterator[Member]:
    """Walk without following symlinks; names are relative to `root`.

    Iterative (`walk_tree`), so a directory deeper than Python's recursion limit
    reaches `store.unpack`, which refuses it by its depth limit. Each directory's
    entries come sorted, directories before what they hold.
    """
    from store.fsutil import walk_tree

    top = str(root)
    try:
        for dirpath, dirnames, filenames in walk_tree(top):
            prefix = "" if dirpath == top else os.path.relpath(dirpath, top) + "/"
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as fobj:
                        yield Member(prefix + name, MemberKind.FILE, st.st_mode & 0o7777,
                                     st.st_size, "", _content(fobj))
                elif stat.S_ISDIR(st.st_mode):
                    yield Member(prefix + name, MemberKind.DIRECTORY, st.st_mode & 0o7777)
                elif stat.S_ISLNK(st.st_mode):
                    yield Member(prefix + name, MemberKind.SYMLINK, 0o777, 0,
                                 os.readlink(path))
                else:
                    yield Member(prefix + name, MemberKind.SPECIAL, st.st_mode)
    except OSError as exc:
        raise UsageError(f"cannot read {exc.filename}: {exc.strerror}") from exc


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
