"""The evidence manifest: hashes of every file, Ed25519 signatures, and what verify says."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from audit.errors import DataError, UsageError
from audit.evidence import format_report, generate_keypair, sign_manifest, verify, write_manifest

FILES = {"result.json": b'{"verdict": "fail"}', "report.pdf": bytes(range(256)) * 4, "sub/public.csv": b"a,b\n1,2\n"}


def _folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    for name, data in FILES.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    write_manifest(out, data_sha256="d" * 64, spec_sha256="s" * 64, result_sha256="r" * 64, toolkit_version="0.1.0",
                   seed=7)
    return out


@pytest.mark.parametrize("name", sorted(FILES))
def test_a_one_byte_change_is_named(tmp_path: Path, name: str) -> None:
    out = _folder(tmp_path)
    assert verify(out).ok
    data = bytearray((out / name).read_bytes())
    data[0] ^= 0x01
    (out / name).write_bytes(bytes(data))
    report = verify(out)
    assert not report.ok and report.changed == (name,) and name in format_report(report)


def test_missing_and_added_files(tmp_path: Path) -> None:
    out = _folder(tmp_path)
    (out / "result.json").unlink()
    (out / "extra.txt").write_text("x")
    report = verify(out)
    assert report.missing == ("result.json",) and report.added == ("extra.txt",) and not report.ok


def test_signatures(tmp_path: Path) -> None:
    out = _folder(tmp_path)
    generate_keypair(tmp_path / "a.pem", tmp_path / "a.pub")
    generate_keypair(tmp_path / "b.pem", tmp_path / "b.pub")
    assert verify(out, tmp_path / "a.pub").signature == "absent"
    sign_manifest(out, tmp_path / "a.pem")
    assert verify(out, tmp_path / "a.pub").signature == "valid" and verify(out, tmp_path / "a.pub").ok
    assert verify(out, tmp_path / "b.pub").signature == "invalid" and not verify(out, tmp_path / "b.pub").ok
    assert "not checked" in format_report(verify(out))
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"seed": 7', '"seed": 8'))
    assert verify(out, tmp_path / "a.pub").signature == "invalid"


def test_bad_keys_and_folders_give_clear_errors(tmp_path: Path) -> None:
    out = _folder(tmp_path)
    generate_keypair(tmp_path / "a.pem", tmp_path / "a.pub")
    with pytest.raises(UsageError, match="already exists"):
        generate_keypair(tmp_path / "a.pem", tmp_path / "c.pub")
    (tmp_path / "junk.pem").write_text("hello")
    with pytest.raises(UsageError, match="junk.pem.*not a PEM key"):
        sign_manifest(out, tmp_path / "junk.pem")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "rsa.pem").write_bytes(rsa_key.private_bytes(serialization.Encoding.PEM,
                                                             serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
    with pytest.raises(UsageError, match="rsa.pem.*not an Ed25519 key"):
        sign_manifest(out, tmp_path / "rsa.pem")
    with pytest.raises(UsageError, match="missing.pem.*cannot be read"):
        sign_manifest(out, tmp_path / "missing.pem")
    with pytest.raises(DataError, match="has no manifest.json"):
        verify(tmp_path)
