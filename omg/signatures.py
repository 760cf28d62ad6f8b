"""Upstream PGP signatures, checked with gpgv against the keys omg ships.

What each upstream signs (docs/runtimes.md, "Signatures"): Node ``SHASUMS256.txt``
(``.sig`` detached, ``.asc`` clear-signed), Bun ``SHASUMS256.txt.asc`` (clear-signed),
Rust each channel manifest (``.asc`` detached), Go each archive (``.asc`` detached),
Adoptium each archive (its ``signature_link``). python-build-standalone signs nothing
omg can check (SHA256SUMS only, no PGP): "upstream does not sign".

The keys are data in the package (``omg/keys/<tool>.asc``, each file naming its
source), or the user's keyring for a tool (``[keyrings]``). gpgv runs with a
keyring built from them in a temporary home: no agent, nothing written to
``~/.gnupg``, and gpgv trusts exactly those keys.

The policy (``[signatures] policy``, ``OMG_SIGNATURES``):

- ``require``: a missing signature, a signature by a key omg does not have, or a
  missing gpgv refuses the install;
- ``when-available`` (default): those give one warning each and the install goes on;
- ``off``: no signature is fetched.

A signature that does not verify is refused under every policy but ``off``
(`BadSignature`, exit 5), and the documents it covered are dropped from the cache.
What happened is an `Outcome`, recorded with the store path (its origin's
``signature``), so unverified paths can be listed later.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from store.errors import IntegrityError, NetworkError, NotFound

POLICIES = ("require", "when-available", "off")
DEFAULT_POLICY = "when-available"
POLICY_VAR = "OMG_SIGNATURES"

#: Outcome statuses, weakest first: a store path records its weakest check.
VERIFIED = "verified"
UNSIGNED = "upstream-unsigned"  # upstream publishes no signature omg can check
MISSING = "missing"  # upstream signs, this mirror has no signature file
UNKNOWN_KEY = "unknown-key"  # signed by a key omg does not have
NO_GPGV = "no-gpgv"
OFF = "off"
_RANK = (OFF, NO_GPGV, UNKNOWN_KEY, MISSING, UNSIGNED, VERIFIED)

#: How each warning about a signature that was not checked ends (one per install).
UNVERIFIED = ": not verified (sha256 only)"

KEYS_DIR = Path(__file__).resolve().parent / "keys"
_INSTALL_GPGV = "install gpgv (apt install gpgv; pacman -S gnupg)"


class BadSignature(IntegrityError):
    """A signature that does not verify against the keys: never installed."""


@dataclass(frozen=True)
class Outcome:
    """How one signed document or file was checked."""

    status: str
    url: str = ""  # the signature's URL
    key: str = ""  # the signing key's primary fingerprint, when verified

    def plain(self) -> dict[str, str]:
        return {k: v for k, v in (("status", self.status), ("url", self.url),
                                  ("key", self.key)) if v}


#: What each status means, for `omg store info`.
MEANING = {
    VERIFIED: "verified: upstream's signature, by key {key}",
    UNSIGNED: "none: upstream publishes no signature omg checks (sha256 only)",
    MISSING: "not verified: the mirror had no signature ({url}); sha256 only",
    UNKNOWN_KEY: "not verified: signed by a key omg does not have ({url}); sha256 only",
    NO_GPGV: "not verified: gpgv was not installed; sha256 only",
    OFF: "not checked: signatures = off; sha256 only",
}


def describe(checked: dict[object, object]) -> str:
    """One line for a recorded `Outcome.plain()`."""
    status = str(checked.get("status", ""))
    return MEANING.get(status, status).format(key=checked.get("key", "?"),
                                              url=checked.get("url", "?"))


def weakest(outcomes: Sequence[Outcome]) -> Outcome:
    """What a store path built from several checked documents can claim."""
    if not outcomes:
        return Outcome(UNSIGNED)
    return min(outcomes, key=lambda o: _RANK.index(o.status))


@dataclass(frozen=True)
class Signature:
    """Where upstream publishes a signature of something, and its kind."""

    url: str
    clear: bool = False  # clear-signed: the signed text is inside (Bun, Node's .asc)


#: (url) -> the document's bytes; raises NotFound when the mirror lacks it.
Fetch = Callable[[str], bytes]


def policy_of(configured: str | None, environ: dict[str, str] | None = None) -> str:
    """OMG_SIGNATURES, then ``[signatures] policy``, then when-available (both are
    checked by omg.config before anything reads them)."""
    env = os.environ if environ is None else environ
    return env.get(POLICY_VAR) or configured or DEFAULT_POLICY


@dataclass
class Checker:
    """Checks upstream signatures for one command; `outcomes` lists what it found."""

    policy: str
    #: A tool's user-configured keyring (``[keyrings]``, ``OMG_<TOOL>_KEYRING``), if any.
    keyring_of: Callable[[str], Path | None] = lambda tool: None
    notices: list[str] = field(default_factory=list)
    forget: Callable[[str], None] = lambda url: None
    offline: Callable[[], bool] = lambda: False
    outcomes: list[Outcome] = field(default_factory=list)

    # The two kinds of signed thing ------------------------------------------------------

    def document(self, tool: str, url: str, body: Callable[[], bytes],
                 signatures: Sequence[Signature], fetch: Fetch) -> bytes:
        """The trusted bytes of the document at `url` (a clear-signed one's signed text).

        `signatures` are tried in order; the first the mirror has is checked.
        """
        found = self._fetch_first(tool, url, signatures, fetch)
        if found is None:
            return body()
        sig, data = found
        from tempfile import TemporaryDirectory

        with TemporaryDirectory(prefix="omg-sig-") as tmp:
            work = Path(tmp)
            (work / "sig").write_bytes(data)
            if sig.clear:
                # Unverified (a key omg does not have), the plain file is read as usual.
                if self._verify(tool, url, sig, work, [str(work / "sig")],
                                output=work / "text", drop=(url, sig.url)):
                    return (work / "text").read_bytes()
                return body()
            content = body()
            (work / "data").write_bytes(content)
            self._verify(tool, url, sig, work, [str(work / "sig"), str(work / "data")],
                         drop=(url, sig.url))
            return content

    def file(self, tool: str, path: Path, label: str, signature: Signature,
             fetch: Fetch) -> None:
        """Check a downloaded file against its detached signature (Go, Adoptium)."""
        found = self._fetch_first(tool, label, [signature], fetch)
        if found is None:
            return
        sig, data = found
        from tempfile import TemporaryDirectory

        with TemporaryDirectory(prefix="omg-sig-") as tmp:
            work = Path(tmp)
            (work / "sig").write_bytes(data)
            self._verify(tool, label, sig, work, [str(work / "sig"), str(path)],
                         drop=(sig.url,))

    # Steps ------------------------------------------------------------------------------

    def _fetch_first(self, tool: str, what: str, signatures: Sequence[Signature],
                     fetch: Fetch) -> tuple[Signature, bytes] | None:
        """The first signature the mirror has, or None when there is nothing to check
        (policy off, no gpgv, no key, no signature: recorded, warned or refused)."""
        if self.policy == "off" or not signatures:
            self.outcomes.append(Outcome(OFF if self.policy == "off" else UNSIGNED))
            return None
        if gpgv() is None:
            self._unverified(Outcome(NO_GPGV), f"gpgv not found, so the signature of {what} "
                             "cannot be checked", hint=_INSTALL_GPGV)
            return None
        if self._keys(tool) is None:
            self._unverified(Outcome(UNKNOWN_KEY, signatures[0].url),
                             f"{what}: omg has no key for {tool}'s signatures",
                             hint=f"set [keyrings] {tool} (docs/config.md)")
            return None
        for sig in signatures:
            try:
                return sig, fetch(sig.url)
            except NotFound:
                continue
            except NetworkError:
                if not self.offline():
                    raise
        names = ", ".join(s.url for s in signatures)
        self._unverified(Outcome(MISSING, signatures[0].url),
                         f"{what}: no signature on this mirror ({names} not found)",
                         hint="use a mirror that carries upstream's signatures")
        return None

    def _verify(self, tool: str, what: str, sig: Signature, work: Path, args: list[str],
                *, drop: Sequence[str], output: Path | None = None) -> bool:
        """True if verified; False if signed by a key omg does not have (warned, or
        refused under require); a bad signature raises `BadSignature`."""
        import subprocess

        keyring = self._keyring(tool, work)
        cmd = [str(gpgv()), "--homedir", str(work), "--keyring", str(keyring),
               "--status-fd", "1"]
        if output is not None:
            cmd += ["--output", str(output)]
        proc = subprocess.run([*cmd, *args], capture_output=True, check=False,
                              env={**os.environ, "LC_ALL": "C"})
        status = _status(proc.stdout.decode("utf-8", "replace"))
        if proc.returncode == 0 and "VALIDSIG" in status:
            fields = status["VALIDSIG"]
            self.outcomes.append(Outcome(VERIFIED, sig.url, fields[-1] if fields else ""))
            return True
        if "NO_PUBKEY" in status and "BADSIG" not in status:
            key = (status["NO_PUBKEY"] or ["?"])[0]
            self._unverified(Outcome(UNKNOWN_KEY, sig.url),
                             f"{sig.url}: signed by key {key}, which is not among omg's "
                             f"keys for {tool}",
                             hint=f"if upstream added a release key, add it with "
                                  f"[keyrings] {tool} (docs/runtimes.md, \"Signatures\")")
            return False
        for url in drop:  # what the bad signature covered must be fetched afresh
            self.forget(url)
        why = (proc.stderr.decode("utf-8", "replace").strip().splitlines()
               or ["bad signature"])[-1]
        raise BadSignature(f"{sig.url}: bad signature for {what}: {why}",
                           hint="the mirror or the download is corrupt or tampered with; "
                                "nothing was installed")

    def _unverified(self, outcome: Outcome, why: str, *, hint: str) -> None:
        """Under `require`, refuse; else one warning, and the install goes on."""
        if self.policy == "require":
            raise IntegrityError(why, hint=f"{hint}; or set {POLICY_VAR}=when-available "
                                           "(signatures = require refuses what it cannot "
                                           "verify)")
        self.outcomes.append(outcome)
        message = f"{why}{UNVERIFIED}"
        if message not in self.notices:
            self.notices.append(message)

    # Keys -------------------------------------------------------------------------------

    def _keys(self, tool: str) -> Path | None:
        configured = self.keyring_of(tool)
        if configured is not None:
            return configured
        shipped = KEYS_DIR / f"{tool}.asc"
        return shipped if shipped.is_file() else None

    def _keyring(self, tool: str, work: Path) -> Path:
        """A keyring file gpgv reads: armored keys are decoded, a binary keyring
        (keybox or OpenPGP packets) is used as it is."""
        source = self._keys(tool)
        assert source is not None  # _fetch_first checked
        try:
            raw = source.read_bytes()
        except OSError as exc:
            raise IntegrityError(f"{source}: cannot read {tool}'s keyring ({exc.strerror})",
                                 hint=f"fix [keyrings] {tool}") from None
        ring = work / "keyring.gpg"
        ring.write_bytes(dearmor(raw) if b"-----BEGIN PGP" in raw else raw)
        return ring


def gpgv() -> str | None:
    import shutil

    return shutil.which("gpgv")


def dearmor(text: bytes) -> bytes:
    """The binary packets of every ASCII-armored block in `text` (RFC 4880, 6.2):
    gpgv reads binary keyrings only. The CRC line is left to gpgv's own parsing."""
    import base64

    out = bytearray()
    inside = body = False
    data: list[str] = []
    for line in text.decode("ascii", "replace").splitlines():
        line = line.strip()
        if line.startswith("-----BEGIN PGP"):
            inside, body, data = True, False, []
        elif line.startswith("-----END PGP") and inside:
            out += base64.b64decode("".join(data))
            inside = False
        elif inside and not body:
            body = line == ""  # the armor headers end at the first empty line
        elif inside and not line.startswith("="):
            data.append(line)
    return bytes(out)


def _status(text: str) -> dict[str, list[str]]:
    """gpgv's ``[GNUPG:] KEYWORD args...`` lines, by keyword (the last of each)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("[GNUPG:] "):
            keyword, *args = line[9:].split()
            out[keyword] = args
    return out
