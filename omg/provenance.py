"""Provenance: Sigstore bundles of downloaded artifacts, verified offline.

Which upstreams publish what is in docs/security.md ("Provenance"). A provider whose
upstream signs with Sigstore names who must have signed (`Identity`: the OIDC issuer
and an e-mail, or a GitHub repository whose Actions workflow signed) and gives each
artifact the URLs a bundle may be at (`Artifact.attestations`: ``<asset>.sigstore.json``
and ``<asset>.sigstore`` beside it on the mirror, GitHub's attestations API). At
install the first bundle found is verified with sigstore-python against the artifact's
sha256 (already checked against upstream's checksum) and the trust root omg ships
(``omg/keys/sigstore-trusted-root.json``: Sigstore's public-good root, as
sigstore-python 4.5.1 embeds it), with no network: the bundle's inclusion proof,
checkpoint and signed entry timestamp carry what Rekor would say.

Two shapes of bundle: a signature (``messageSignature``: hashedrekord over the sha256,
as python.org signs each CPython artifact) and an attestation (a DSSE envelope around
an in-toto statement: SLSA provenance, GitHub artifact attestations), whose subject
digest must be the artifact's. What is found is recorded in the store path's origin
(``provenance``) beside ``signature``:

- ``verified``: with the signer's identity and the transparency log index;
- ``absent``: upstream attests, the mirror had no bundle (or omg ran offline);
- ``unverifiable``: a bundle sigstore-python cannot check offline (Rekor entries of
  kind intoto, as npm's provenance; bundles without a checkpoint, as python.org's
  before late 2024), with why;

and a bundle that does not verify refuses the install (`BadAttestation`, exit 5).
sigstore-python is imported only when a bundle is found (it costs about a second).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omg.audit.finding import Finding
from store.errors import IntegrityError, NetworkError, NotFound

if TYPE_CHECKING:
    from sigstore.verify.policy import VerificationPolicy

    from store.record import PathRecord

TRUSTED_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keys",
                            "sigstore-trusted-root.json")
GITHUB_ACTIONS = "https://token.actions.githubusercontent.com"

VERIFIED, ABSENT, UNVERIFIABLE = "verified", "absent", "unverifiable"
#: The audit finding kind for a path whose upstream attests but whose provenance was not
#: verified (omg.audit.finding has the other kinds).
UNATTESTED = "unattested"

#: The Rekor entry kinds sigstore-python 4.5 verifies offline.
_OFFLINE_KINDS = (("hashedrekord", "0.0.1"), ("dsse", "0.0.1"))

#: (url) -> the bundle's bytes; raises NotFound when the mirror lacks it.
Fetch = Callable[[str], bytes]


class BadAttestation(IntegrityError):
    """A Sigstore bundle that does not verify for its artifact: never installed."""


@dataclass(frozen=True)
class Identity:
    """Who must have signed: `issuer` and either `email` (a person's OIDC identity) or
    `repository` (``owner/name``, signed by a GitHub Actions workflow of it)."""

    issuer: str
    email: str = ""
    repository: str = ""

    def describe(self) -> str:
        return self.email or f"a GitHub Actions workflow of {self.repository}"


def check(identity: Identity, urls: Sequence[str], sha256: str,
          fetch: Fetch) -> dict[str, object]:
    """The provenance record of an artifact whose sha256 is `sha256`: the first bundle
    of `urls` the mirror has, verified; BadAttestation if it does not verify.

    A bundle that cannot be fetched (not on the mirror, unreachable, offline) leaves
    the path `ABSENT`: the sha256 and upstream's signature were checked already, and
    the policy engine decides what an unattested path may do."""
    for url in urls:
        try:
            raw = fetch(url)
        except (NotFound, NetworkError):
            continue
        outcomes = [verify(b, sha256, identity, url) for b in _bundles(raw)]
        if not outcomes:
            # A mirror's error page served as 200, an answer listing nothing: no
            # evidence either way.
            return {"status": UNVERIFIABLE, "url": url, "reason": "not a Sigstore bundle"}
        return next((o for o in outcomes if o["status"] == VERIFIED), outcomes[0])
    return {"status": ABSENT}


def _bundles(raw: bytes) -> list[dict[str, object]]:
    """The bundles in a document: one bundle, or GitHub's attestations API answer
    (``{"attestations": [{"bundle": ...}, ...]}``); none in anything else."""
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return []
    if isinstance(doc, dict) and isinstance(doc.get("attestations"), list):
        return [a["bundle"] for a in doc["attestations"]
                if isinstance(a, dict) and isinstance(a.get("bundle"), dict)]
    return [doc] if isinstance(doc, dict) and "verificationMaterial" in doc else []


def offline_obstacle(bundle: dict[str, object]) -> str:
    """Why sigstore-python cannot verify `bundle` offline, or "" if it can."""
    material = bundle.get("verificationMaterial")
    entries = material.get("tlogEntries") if isinstance(material, dict) else None
    if not isinstance(entries, list) or not entries:
        return "the bundle has no transparency log entry"
    for entry in entries:
        kv = entry.get("kindVersion", {}) if isinstance(entry, dict) else {}
        kind = (kv.get("kind"), kv.get("version")) if isinstance(kv, dict) else None
        if kind not in _OFFLINE_KINDS:
            return (f"its Rekor entry is of kind {'/'.join(map(str, kind or ('?',)))}, "
                    "which sigstore-python verifies only for hashedrekord and dsse 0.0.1")
        proof = entry.get("inclusionProof") if isinstance(entry, dict) else None
        if not isinstance(proof, dict) or not proof.get("checkpoint"):
            return ("its inclusion proof has no checkpoint (an older bundle: Rekor "
                    "would have to be asked for one)")
    return ""


def verify(bundle: dict[str, object], sha256: str, identity: Identity,
           url: str = "") -> dict[str, object]:
    """The provenance record of `bundle` for the artifact whose sha256 is `sha256`."""
    obstacle = offline_obstacle(bundle)
    if obstacle:
        return {"status": UNVERIFIABLE, "url": url, "reason": obstacle}
    from sigstore.errors import Error as SigstoreError
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore_models.common.v1 import HashAlgorithm

    what = url or "the Sigstore bundle"
    try:
        parsed = Bundle.from_json(json.dumps(bundle))
        verifier = Verifier(trusted_root=TrustedRoot.from_file(TRUSTED_ROOT))
        policy = _policy(identity)
        if "dsseEnvelope" in bundle:
            kind, payload = verifier.verify_dsse(parsed, policy)
            predicate = _check_subject(kind, payload, sha256, what)
        else:
            digest = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(sha256))
            verifier.verify_artifact(digest, parsed, policy)
            predicate = ""
    except SigstoreError as exc:
        raise BadAttestation(f"{what} does not verify: {exc}",
                             hint=f"expected a signature by {identity.describe()}") from None
    except ValueError as exc:  # a malformed bundle: base64, protobuf JSON, certificates
        raise BadAttestation(f"{what} is malformed: {exc}") from None
    record: dict[str, object] = {
        "status": VERIFIED, "url": url, "issuer": identity.issuer,
        "identity": _san(parsed), "log_index": parsed.log_entry._inner.log_index}
    if predicate:
        record["predicate"] = predicate
    return record


def _policy(identity: Identity) -> VerificationPolicy:
    from sigstore.verify import policy

    if identity.email:
        return policy.Identity(identity=identity.email, issuer=identity.issuer)
    return policy.AllOf([policy.OIDCIssuer(identity.issuer),
                         policy.GitHubWorkflowRepository(identity.repository)])


def _check_subject(kind: str, payload: bytes, sha256: str, what: str) -> str:
    """The predicate type of an in-toto statement whose subject is the artifact."""
    from sigstore.errors import VerificationError

    if kind != "application/vnd.in-toto+json":
        raise VerificationError(f"the envelope holds {kind}, not an in-toto statement")
    statement = json.loads(payload)
    digests = {str(s.get("digest", {}).get("sha256", "")).lower()
               for s in statement.get("subject", []) if isinstance(s, dict)}
    if sha256.lower() not in digests:
        raise VerificationError(f"no subject of the statement has sha256 {sha256}")
    return str(statement.get("predicateType", ""))


def _san(bundle: object) -> str:
    """The signing certificate's identity (an e-mail or a workflow URI)."""
    from cryptography.x509 import RFC822Name, SubjectAlternativeName, UniformResourceIdentifier

    cert = bundle.signing_certificate  # type: ignore[attr-defined]
    names = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
    found = [*names.get_values_for_type(RFC822Name),
             *names.get_values_for_type(UniformResourceIdentifier)]
    return str(found[0]) if found else ""


# Reading what was recorded ----------------------------------------------------------


def describe(prov: dict[object, object]) -> str:
    """One line for a recorded outcome (`omg store info`)."""
    status = prov.get("status")
    if status == VERIFIED:
        return (f"verified: Sigstore, signed by {prov.get('identity', '?')} "
                f"(Rekor log index {prov.get('log_index', '?')})")
    if status == UNVERIFIABLE:
        return f"not verified: {prov.get('reason', '?')} ({prov.get('url', '?')})"
    return "not verified: upstream attests, but no Sigstore bundle could be had"


# Audit ---------------------------------------------------------------------------------


def recorded(record: PathRecord) -> dict[str, object] | None:
    """What the install recorded of `record`'s provenance (None: upstream attests
    nothing omg checks)."""
    value = (record.origin or {}).get("provenance")
    return value if isinstance(value, dict) else None


def findings(records: Iterable[PathRecord]) -> list[Finding]:
    """`UNATTESTED` findings: store paths whose upstream attests but whose provenance
    was not verified (`omg audit` lists them beside the unsigned ones)."""
    out = []
    for rec in records:
        prov = recorded(rec)
        if prov is None or prov.get("status") == VERIFIED:
            continue
        why = (str(prov.get("reason", "")) if prov.get("status") == UNVERIFIABLE
               else "the mirror had no Sigstore bundle")
        out.append(Finding(rec.name, rec.version, UNATTESTED, "low", "provenance",
                           f"provenance not verified: {why}"))
    return out



def github_attestations(api: str, sha256: str) -> str:
    """Where GitHub's attestations API (`api`: ``.../repos/OWNER/NAME``) lists the
    attestations of the artifact whose sha256 is `sha256`."""
    return f"{api.rstrip('/')}/attestations/sha256:{sha256.lower()}"
