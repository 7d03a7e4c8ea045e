"""Evidence that a report folder is what the audit wrote: a manifest of SHA-256 hashes, optionally signed.

``manifest.json`` lists every file of the folder with its size and SHA-256,
and the hashes of the data, spec and result with the toolkit version and
seed. ``manifest.sig`` holds an Ed25519 signature of the manifest's exact
bytes (base64). :func:`verify` recomputes everything and says, in sentences
an inspector can read, what changed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.errors import DataError, ReasonCode, UsageError
from audit.readers import file_sha256

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
Signature = Literal["valid", "invalid", "absent", "not checked"]


def _files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).as_posix() not in (MANIFEST, SIGNATURE)}


def write_manifest(out_dir: str | Path, *, data_sha256: str | None, spec_sha256: str, result_sha256: str,
                   toolkit_version: str, seed: int | None) -> Path:
    """Write ``manifest.json`` listing every file in ``out_dir`` (recursively) with its size and SHA-256."""
    folder = Path(out_dir)
    body = {"manifest_version": 1, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "toolkit_version": toolkit_version, "seed": seed, "data_sha256": data_sha256,
            "spec_sha256": spec_sha256, "result_sha256": result_sha256,
            "files": [{"path": name, "bytes": path.stat().st_size, "sha256": file_sha256(path)}
                      for name, path in _files(folder).items()]}
    path = folder / MANIFEST
    path.write_text(json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _key_error(path: Path, expected: str, why: str) -> UsageError:
    return UsageError(f"key file '{path}': {why}. Expected {expected}; make a pair with "
                      f"'audit keygen --private KEY.pem --public KEY.pub'", reason=ReasonCode.KEY_INVALID)


def _read_key(path: Path, *, private: bool) -> Ed25519PrivateKey | Ed25519PublicKey:
    expected = ("an unencrypted Ed25519 private key in PEM (PKCS8)" if private
                else "an Ed25519 public key in PEM")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _key_error(path, expected, f"cannot be read ({error.strerror or error})") from None
    try:
        key = (serialization.load_pem_private_key(data, password=None) if private
               else serialization.load_pem_public_key(data))
    except TypeError:
        raise _key_error(path, expected, "is encrypted with a password") from None
    except (ValueError, Exception):  # cryptography raises ValueError or UnsupportedAlgorithm for bad keys
        raise _key_error(path, expected, "is not a PEM key") from None
    wanted = Ed25519PrivateKey if private else Ed25519PublicKey
    if not isinstance(key, wanted):
        raise _key_error(path, expected, f"holds a {type(key).__name__.lstrip('_')}, not an Ed25519 key")
    return key


def generate_keypair(private_path: str | Path, public_path: str | Path) -> None:
    """Write a new Ed25519 key pair as PEM files; refuses to overwrite an existing file."""
    private_path, public_path = Path(private_path), Path(public_path)
    for path in (private_path, public_path):
        if path.exists():
            raise UsageError(f"'{path}' already exists; choose another file name (a key is never overwritten)",
                             reason=ReasonCode.KEY_INVALID)
    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    private_path.chmod(0o600)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))


def sign_manifest(out_dir: str | Path, private_key_path: str | Path) -> Path:
    """Write ``manifest.sig``: the base64 Ed25519 signature of ``manifest.json``'s exact bytes."""
    folder = Path(out_dir)
    key = _read_key(Path(private_key_path), private=True)
    signature = key.sign((folder / MANIFEST).read_bytes())  # type: ignore[union-attr]
    path = folder / SIGNATURE
    path.write_text(base64.b64encode(signature).decode() + "\n", encoding="ascii")
    return path


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found: files changed, missing or added, and the signature's state."""

    ok: bool
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    added: tuple[str, ...]
    signature: Signature
    messages: tuple[str, ...]


def verify(out_dir: str | Path, public_key_path: str | Path | None = None) -> VerifyReport:
    """Recompute every hash of the folder's manifest (and check its signature with ``public_key_path``)."""
    folder = Path(out_dir)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise DataError(f"'{folder}' has no {MANIFEST}: it was not written by 'audit report' or 'audit run "
                        f"--report', or the manifest was removed. Make the report again to get one",
                        reason=ReasonCode.MANIFEST_NOT_FOUND)
    raw = manifest_path.read_bytes()
    try:
        listed = {f["path"]: f for f in json.loads(raw)["files"]}
    except (ValueError, KeyError, TypeError):
        listed = None
    messages: list[str] = []
    if listed is None:
        return VerifyReport(False, (MANIFEST,), (), (), "not checked",
                            (f"{MANIFEST} is not a manifest the toolkit wrote (it cannot be read as one)",))
    present = _files(folder)
    changed, missing = [], []
    for name, entry in listed.items():
        if name not in present:
            missing.append(name)
            messages.append(f"{name} is missing (it is listed in the manifest)")
            continue
        now = file_sha256(present[name])
        if now != entry["sha256"]:
            changed.append(name)
            messages.append(f"{name} changed since the manifest was made (SHA-256 was {entry['sha256'][:12]}…, "
                            f"now {now[:12]}…)")
    added = [name for name in present if name not in listed]
    messages += [f"{name} was added after the manifest was made" for name in added]
    signature: Signature = "not checked"
    sig_path = folder / SIGNATURE
    if public_key_path is not None:
        key = _read_key(Path(public_key_path), private=False)
        if not sig_path.is_file():
            signature = "absent"
            messages.append(f"the folder has no {SIGNATURE}: the manifest was not signed")
        else:
            try:
                key.verify(base64.b64decode(sig_path.read_text(encoding="ascii").strip()), raw)  # type: ignore
                signature = "valid"
            except (InvalidSignature, ValueError):
                signature = "invalid"
                messages.append(f"the signature is invalid: the manifest was changed after signing, or it was "
                                f"signed with another key than {public_key_path}")
    elif sig_path.is_file():
        messages.append(f"{SIGNATURE} exists but was not checked: pass --key with the signer's public key")
    ok = not (changed or missing or added) and signature in ("valid", "not checked")
    return VerifyReport(ok, tuple(changed), tuple(missing), tuple(added), signature, tuple(messages))


def format_report(report: VerifyReport) -> str:
    """The lines the command line prints for a :class:`VerifyReport`."""
    if report.ok:
        head = "verified: every file matches the manifest"
        head += " and the signature is valid" if report.signature == "valid" else ""
    else:
        head = "NOT verified: " + "; ".join(
            part for part in (f"{len(report.changed)} changed" if report.changed else "",
                              f"{len(report.missing)} missing" if report.missing else "",
                              f"{len(report.added)} added" if report.added else "",
                              f"signature {report.signature}" if report.signature in ("invalid", "absent") else "")
            if part)
    return "\n".join([head] + [f"- {m}" for m in report.messages])
