"""Evidence that a report folder is what the audit wrote: manifests of SHA-256 hashes, signed on request.

A report folder ``OUT`` holds two manifests:

- ``OUT/manifest.json`` (internal): every file under ``OUT``, the public
  folder's included, with its size and SHA-256, and the hashes of the data,
  the spec and the internal result, the toolkit's version and the seed.
- ``OUT/public/manifest.json`` (public): the files of ``OUT/public`` only, the
  spec's SHA-256 (the spec is printed in the report), the SHA-256 of the
  published tables (``public_sha256``), the toolkit's version and the seed.
  It never carries a hash of unpublished data (the internal result, junit.xml,
  summary.md, the data file): trying the few tables consistent with the
  published numbers against such a hash would reveal withheld counts. It may
  carry ``result_commitment``: HMAC-SHA256, under a key only the auditor
  holds, of the internal result.json's SHA-256 (see :func:`result_commitment`).

``manifest.sig`` beside a manifest is JSON: ``{"algorithm": "ed25519",
"manifest_sha256": ..., "signature": base64}``, the Ed25519 signature of the
manifest's exact bytes and the SHA-256 of those bytes, so that a manifest
changed after signing is caught even without the public key (a signature in
the older form, base64 text only, is still read). :func:`verify` recomputes
everything and says, in sentences an inspector can read, what changed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.errors import DataError, ReasonCode, UsageError

MANIFEST, SIGNATURE, PUBLIC_DIR = "manifest.json", "manifest.sig", "public"
MANIFEST_VERSION = 2
Signature = Literal["valid", "invalid", "absent", "not checked"]
Commitment = Literal["valid", "invalid", "absent", "not checked"]
_HEX64 = re.compile(r"[0-9a-f]{64}")
_REMAKE = ("the manifest is damaged or was not written by the toolkit: restore it from the copy you received, or "
           "make the report again ('audit report SPEC --out DIR')")


def _sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes (the path is taken literally: no glob, no ``~``)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _files(folder: Path) -> dict[str, Path]:
    """Every file under ``folder`` by its path relative to it, except the folder's own manifest and signature."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in (MANIFEST, SIGNATURE)}


def _write(folder: Path, fields: dict[str, Any]) -> Path:
    """Write ``folder/manifest.json`` with ``fields`` and the file list; removes a signature of an older manifest."""
    body = {"manifest_version": MANIFEST_VERSION,
            "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **fields,
            "files": [{"path": name, "bytes": path.stat().st_size, "sha256": _sha256(path)}
                      for name, path in _files(folder).items()]}
    (folder / SIGNATURE).unlink(missing_ok=True)   # it signed another manifest
    path = folder / MANIFEST
    path.write_text(json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_manifest(out_dir: str | Path, *, data_sha256: str | None, spec_sha256: str, result_sha256: str,
                   toolkit_version: str, seed: int | None) -> Path:
    """Write the internal ``manifest.json``: every file under ``out_dir`` (recursively, the public folder's
    files and manifest included) with its size and SHA-256, and the data, spec and result hashes.

    Write it last: a file added afterwards is reported by :func:`verify`. An existing ``manifest.sig`` of
    the folder is removed (it signed the previous manifest)."""
    return _write(Path(out_dir), {"scope": "internal", "toolkit_version": toolkit_version, "seed": seed,
                                  "data_sha256": data_sha256, "spec_sha256": spec_sha256,
                                  "result_sha256": result_sha256})


def write_public_manifest(public_dir: str | Path, *, spec_sha256: str, public_sha256: str, toolkit_version: str,
                          seed: int | None, result_commitment: str | None = None) -> Path:
    """Write the public ``manifest.json`` of ``public_dir``: its files only, with the spec's SHA-256, the
    published tables' SHA-256 (``public_sha256``), the toolkit's version and the seed.

    No hash of unpublished data goes in (see the module docstring); ``result_commitment`` (from
    :func:`result_commitment`) is written only when given. An existing ``manifest.sig`` is removed."""
    fields: dict[str, Any] = {"scope": "public", "toolkit_version": toolkit_version, "seed": seed,
                              "spec_sha256": spec_sha256, "public_sha256": public_sha256}
    if result_commitment is not None:
        fields["result_commitment"] = result_commitment
    return _write(Path(public_dir), fields)


def _key_error(path: Path, expected: str, why: str, make: str) -> UsageError:
    return UsageError(f"key file '{path}': {why}. Expected {expected}; make one with '{make}'",
                      reason=ReasonCode.KEY_INVALID)


def _read_bytes(path: Path, expected: str, make: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise _key_error(path, expected, f"cannot be read ({error.strerror or error})", make) from None


def _read_key(path: Path, *, private: bool) -> Ed25519PrivateKey | Ed25519PublicKey:
    expected = ("an unencrypted Ed25519 private key in PEM (PKCS8)" if private
                else "an Ed25519 public key in PEM")
    make = "audit keygen --private KEY.pem --public KEY.pub"
    data = _read_bytes(path, expected, make)
    try:
        key = (serialization.load_pem_private_key(data, password=None) if private
               else serialization.load_pem_public_key(data))
    except TypeError:
        raise _key_error(path, expected, "is encrypted with a password", make) from None
    except (ValueError, Exception):  # cryptography raises ValueError or UnsupportedAlgorithm for bad keys
        raise _key_error(path, expected, "is not a PEM key", make) from None
    wanted = Ed25519PrivateKey if private else Ed25519PublicKey
    if not isinstance(key, wanted):
        raise _key_error(path, expected, f"holds a {type(key).__name__.lstrip('_')}, not an Ed25519 key", make)
    return key


def read_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path``; a :class:`UsageError` saying how to make one if not."""
    return _read_key(Path(path), private=True)  # type: ignore[return-value]


def _refuse_existing(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            raise UsageError(f"'{path}' already exists; choose another file name (a key is never overwritten)",
                             reason=ReasonCode.KEY_INVALID)


def generate_keypair(private_path: str | Path, public_path: str | Path) -> None:
    """Write a new Ed25519 key pair as PEM files; refuses to overwrite an existing file."""
    private_path, public_path = Path(private_path), Path(public_path)
    _refuse_existing(private_path, public_path)
    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    private_path.chmod(0o600)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))


def generate_commitment_key(path: str | Path) -> None:
    """Write a new random 32-byte commitment key as 64 hexadecimal digits (readable by the owner only);
    refuses to overwrite an existing file."""
    path = Path(path)
    _refuse_existing(path)
    path.touch(mode=0o600)
    path.write_text(secrets.token_hex(32) + "\n", encoding="ascii")


def read_commitment_key(path: str | Path) -> bytes:
    """The 32 bytes of a commitment key file (64 hexadecimal digits, as :func:`generate_commitment_key` writes)."""
    path = Path(path)
    expected, make = "64 hexadecimal digits (a random 32-byte key)", "audit keygen --commitment KEY"
    text = _read_bytes(path, expected, make).decode("ascii", errors="replace").strip().lower()
    if not _HEX64.fullmatch(text):
        raise _key_error(path, expected, "is not a commitment key", make)
    return bytes.fromhex(text)


def result_commitment(result_path: str | Path, key: bytes) -> str:
    """HMAC-SHA256 under ``key`` of the hex SHA-256 of the file ``result_path`` (as ASCII), in hex.

    Anyone holding the key and the file recomputes it, e.g. ``sha256sum result.json | cut -c1-64 | tr -d
    '\\n' | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(cat KEY)``; without the key it reveals nothing
    about the result (unlike a plain hash, which lets anyone test guesses of the result's counts)."""
    digest = _sha256(Path(result_path)).encode("ascii")
    return hmac.new(key, digest, hashlib.sha256).hexdigest()


def sign_manifest(out_dir: str | Path, private_key: str | Path | Ed25519PrivateKey) -> Path:
    """Write ``manifest.sig`` beside ``out_dir/manifest.json``: its Ed25519 signature and SHA-256 (JSON).

    ``private_key`` is a PEM file (see :func:`read_private_key`) or a key already read."""
    folder = Path(out_dir)
    key = private_key if isinstance(private_key, Ed25519PrivateKey) else read_private_key(private_key)
    raw = (folder / MANIFEST).read_bytes()
    body = {"algorithm": "ed25519", "manifest_sha256": hashlib.sha256(raw).hexdigest(),
            "signature": base64.b64encode(key.sign(raw)).decode("ascii")}
    path = folder / SIGNATURE
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="ascii")
    return path


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found.

    ``changed``, ``missing`` and ``added`` name files by their path relative to the folder verified, each
    once even when both manifests list it. ``signature`` is the worst state over the manifests checked
    (``invalid`` before ``absent`` before ``not checked``; ``valid`` only when every one is valid).
    ``commitment`` is ``not checked`` unless a commitment key was given. ``manifests`` are the manifests
    checked, relative to the folder."""

    ok: bool
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    added: tuple[str, ...]
    signature: Signature
    messages: tuple[str, ...]
    manifests: tuple[str, ...] = (MANIFEST,)
    commitment: Commitment = "not checked"


def _malformed(label: str, what: str) -> DataError:
    return DataError(f"{label}: {what}; {_REMAKE}", reason=ReasonCode.MANIFEST_INVALID)


def _entry_path(label: str, i: int, entry: Any) -> str:
    """The ``path`` of ``files[i]``, checked: a relative path inside the folder."""
    if not isinstance(entry, dict):
        raise _malformed(label, f"files[{i}] is {type(entry).__name__}, not an object with 'path' and 'sha256'")
    name = entry.get("path")
    if not isinstance(name, str) or not name:
        raise _malformed(label, f"files[{i}] has no 'path' (a file name relative to the manifest's folder)"
                         if name is None else f"files[{i}].path is {name!r}, not a file name")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or "\\" in name or ".." in parts or "." in parts:
        raise _malformed(label, f"files[{i}].path {name!r} is not a plain path inside the folder")
    return name


def _entries(label: str, raw: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """The manifest's fields and its files (path → SHA-256); a :class:`DataError` naming the entry when it is
    not a manifest."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise _malformed(label, f"is not JSON ({error})") from None
    if not isinstance(body, dict):
        raise _malformed(label, f"holds a JSON {type(body).__name__}, not an object with a 'files' list")
    files = body.get("files")
    if not isinstance(files, list):
        raise _malformed(label, "has no 'files' list" if files is None
                         else f"'files' is {type(files).__name__}, not a list")
    listed: dict[str, str] = {}
    for i, entry in enumerate(files):
        name = _entry_path(label, i, entry)
        digest = entry.get("sha256")
        if digest is None:
            raise _malformed(label, f"files[{i}] ({name}) has no 'sha256'")
        if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise _malformed(label, f"files[{i}] ({name}): 'sha256' is {digest!r}, not 64 lower-case "
                                    f"hexadecimal digits")
        size = entry.get("bytes")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise _malformed(label, f"files[{i}] ({name}): 'bytes' is {size!r}, not a whole number of bytes")
        if name in listed:
            raise _malformed(label, f"files[{i}] lists {name} a second time")
        listed[name] = digest
    return body, listed


def _read_signature(path: Path) -> tuple[bytes, str | None] | None:
    """The signature and the manifest SHA-256 it records (None in the older base64-only form); None when the
    file is neither form."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    try:
        if isinstance(body, dict):
            recorded = body.get("manifest_sha256")
            if body.get("algorithm") != "ed25519" or not isinstance(body.get("signature"), str) \
                    or not (recorded is None or isinstance(recorded, str)):
                return None
            return base64.b64decode(body["signature"], validate=True), recorded
        return base64.b64decode(text, validate=True), None
    except (binascii.Error, ValueError):
        return None


@dataclass(frozen=True)
class _Check:
    changed: list[str]
    missing: list[str]
    added: list[str]
    signature: Signature
    messages: list[str]
    body: dict[str, Any]


def _check_signature(folder: Path, prefix: str, raw: bytes, key: Ed25519PublicKey | None,
                     key_path: Path | None) -> tuple[Signature, list[str]]:
    manifest, sig = prefix + MANIFEST, prefix + SIGNATURE
    if not (folder / SIGNATURE).is_file():
        return ("absent", [f"{prefix or 'the folder'} has no {SIGNATURE}: {manifest} was not signed"]) \
            if key is not None else ("not checked", [])
    read = _read_signature(folder / SIGNATURE)
    if read is None:
        return "invalid", [f"{sig} is not a signature the toolkit wrote (JSON with 'algorithm': 'ed25519' and "
                           f"'signature', or base64): it was damaged or replaced"]
    signature, recorded = read
    now = hashlib.sha256(raw).hexdigest()
    if recorded is not None and recorded != now:
        return "invalid", [f"{manifest} was changed after signing: {sig} signed a manifest with SHA-256 "
                           f"{recorded[:12]}…, {manifest} now has {now[:12]}…"]
    if key is None:
        return "not checked", [f"{sig} " + ("matches the manifest's SHA-256 but " if recorded else "exists but ")
                               + "its signature was not checked: pass --key with the signer's public key"]
    try:
        key.verify(signature, raw)
    except InvalidSignature:
        return "invalid", [f"the signature in {sig} is invalid: {manifest} was changed after signing, or it was "
                           f"signed with another key than {key_path}"]
    return "valid", []


def _check(folder: Path, prefix: str, key: Ed25519PublicKey | None, key_path: Path | None) -> _Check:
    """Check the manifest of ``folder`` (``prefix`` is its path relative to the folder verified, with '/')."""
    label = prefix + MANIFEST
    raw = (folder / MANIFEST).read_bytes()
    body, listed = _entries(str(folder / MANIFEST), raw)
    present = _files(folder)
    changed, missing, messages = [], [], []
    for name, digest in listed.items():
        if name not in present:
            missing.append(prefix + name)
            messages.append(f"{prefix}{name} is missing (it is listed in {label})")
            continue
        try:
            now = _sha256(present[name])
        except OSError as error:
            now = f"unreadable ({error.strerror or error})"
        if now != digest:
            changed.append(prefix + name)
            shown = f"{now[:12]}…" if _HEX64.fullmatch(now) else now
            messages.append(f"{prefix}{name} changed since {label} was made (SHA-256 was {digest[:12]}…, "
                            f"now {shown})")
    added = [prefix + name for name in present if name not in listed]
    messages += [f"{name} was added after {label} was made" for name in added]
    signature, said = _check_signature(folder, prefix, raw, key, key_path)
    return _Check(changed, missing, added, signature, messages + said, body)


def _check_commitment(folder: Path, checks: dict[str, _Check], key_path: Path,
                      result_path: Path | None) -> tuple[Commitment, list[str]]:
    public = next((prefix for prefix, c in checks.items() if c.body.get("scope") == "public"), None)
    if public is None:
        raise UsageError(f"'{folder}' has no public manifest to check a commitment in: give the report folder "
                         f"(it holds {PUBLIC_DIR}/{MANIFEST}) or its public folder", reason=ReasonCode.OPTION_INVALID)
    result = result_path or folder / "result.json"
    if not result.is_file():
        raise UsageError(f"'{result}' is not a file: the commitment is checked against the internal result.json; "
                         f"give it with --result FILE", reason=ReasonCode.OPTION_INVALID)
    key = read_commitment_key(key_path)
    label = public + MANIFEST
    recorded = checks[public].body.get("result_commitment")
    if recorded is None:
        return "absent", [f"{label} carries no result_commitment: the report was made without --commit-key"]
    if not isinstance(recorded, str) or not hmac.compare_digest(recorded, result_commitment(result, key)):
        return "invalid", [f"{result} does not match the result_commitment in {label}: the result was changed, "
                           f"or the commitment was made with another key than {key_path}"]
    return "valid", []


def _worst(states: list[Signature]) -> Signature:
    for state in ("invalid", "absent", "not checked"):
        if state in states:
            return state  # type: ignore[return-value]
    return "valid"


def verify(out_dir: str | Path, public_key_path: str | Path | None = None, *,
           commit_key_path: str | Path | None = None, result_path: str | Path | None = None) -> VerifyReport:
    """Recompute every hash of the folder's manifest, and of ``public/manifest.json`` when the folder has one.

    A signature beside a manifest is checked against the manifest's SHA-256 it records (a manifest changed
    after signing fails, with or without a key) and, with ``public_key_path``, cryptographically. With
    ``commit_key_path``, the public manifest's ``result_commitment`` is checked against ``result_path``
    (default: the folder's ``result.json``).

    Raises
    ------
    DataError
        ``MANIFEST_NOT_FOUND`` when the folder has no manifest.json; ``MANIFEST_INVALID`` when a manifest
        is not one (not JSON, no 'files' list, an entry without a path or a SHA-256, a wrong type).
    UsageError
        ``KEY_INVALID`` for a key file that is not a key; ``OPTION_INVALID`` when a commitment is to be
        checked and there is no public manifest or no result.json.
    """
    folder = Path(out_dir)
    if not (folder / MANIFEST).is_file():
        raise DataError(f"'{folder}' has no {MANIFEST}: it was not written by 'audit report' or 'audit run "
                        f"--report', or the manifest was removed. Make the report again to get one",
                        reason=ReasonCode.MANIFEST_NOT_FOUND)
    key_path = Path(public_key_path) if public_key_path is not None else None
    key = _read_key(key_path, private=False) if key_path is not None else None
    prefixes = [""] + ([PUBLIC_DIR + "/"] if (folder / PUBLIC_DIR / MANIFEST).is_file() else [])
    checks = {prefix: _check(folder / prefix, prefix, key, key_path) for prefix in prefixes}
    commitment: Commitment = "not checked"
    messages = [m for c in checks.values() for m in c.messages]
    if commit_key_path is not None:
        commitment, said = _check_commitment(folder, checks, Path(commit_key_path),
                                             Path(result_path) if result_path is not None else None)
        messages += said

    def union(kind: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for c in checks.values() for name in getattr(c, kind)))

    changed, missing, added = union("changed"), union("missing"), union("added")
    signature = _worst([c.signature for c in checks.values()])
    ok = not (changed or missing or added) and signature in ("valid", "not checked") \
        and commitment in ("valid", "not checked")
    return VerifyReport(ok, changed, missing, added, signature, tuple(messages),
                        tuple(prefix + MANIFEST for prefix in prefixes), commitment)


def format_report(report: VerifyReport) -> str:
    """The lines the command line prints for a :class:`VerifyReport`."""
    manifests = " and ".join(report.manifests)
    if report.ok:
        head = f"verified: every file matches {manifests}"
        head += " and the signatures are valid" if report.signature == "valid" else ""
        head += " and the result matches the commitment" if report.commitment == "valid" else ""
    else:
        head = "NOT verified: " + "; ".join(
            part for part in (f"{len(report.changed)} changed" if report.changed else "",
                              f"{len(report.missing)} missing" if report.missing else "",
                              f"{len(report.added)} added" if report.added else "",
                              f"signature {report.signature}" if report.signature in ("invalid", "absent") else "",
                              f"commitment {report.commitment}" if report.commitment in ("invalid", "absent")
                              else "")
            if part)
    return "\n".join([head] + [f"- {m}" for m in report.messages])
