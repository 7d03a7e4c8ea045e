"""The evidence manifests: hashes of every file, the public manifest without hashes of unpublished data,
Ed25519 signatures, the keyed commitment, and what verify says (exit 0, 1 or 2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import audit
from audit.cli import main
from audit.errors import DataError, UsageError
from audit.evidence import (format_report, generate_commitment_key, generate_keypair, read_commitment_key,
                            result_commitment, sign_manifest, verify, write_manifest, write_public_manifest)
from audit.report.writer import write_report
from conftest import BASE_SPEC, synthetic

INTERNAL = {"result.json": b'{"verdict": "fail"}', "junit.xml": b"<testsuites/>", "sub/notes.txt": b"a\n"}
PUBLIC = {"report.pdf": bytes(range(256)) * 4, "public.json": b"{}", "public_groups.csv": b"a,b\n1,2\n"}


def _folder(tmp_path: Path, *, commit_key: bytes | None = None) -> Path:
    """A report folder as write_report lays it out: internal files, public/ with its manifest, the manifest."""
    out = tmp_path / "out"
    for name, data in INTERNAL.items() | {f"public/{n}": d for n, d in PUBLIC.items()}.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    commitment = result_commitment(out / "result.json", commit_key) if commit_key is not None else None
    write_public_manifest(out / "public", spec_sha256="s" * 64, public_sha256="p" * 64, toolkit_version="0.1.0",
                          seed=7, result_commitment=commitment)
    write_manifest(out, data_sha256="d" * 64, spec_sha256="s" * 64, result_sha256="r" * 64, toolkit_version="0.1.0",
                   seed=7)
    return out


def _sign(out: Path, key: Path) -> None:
    sign_manifest(out / "public", key)
    write_manifest(out, data_sha256="d" * 64, spec_sha256="s" * 64, result_sha256="r" * 64,
                   toolkit_version="0.1.0", seed=7)   # the internal manifest lists public/manifest.sig
    sign_manifest(out, key)


def _verify(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["verify", *args])
    assert "Traceback" not in done.output
    return done.exit_code, done.output


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    generate_keypair(folder / "a.pem", folder / "a.pub")
    generate_keypair(folder / "b.pem", folder / "b.pub")
    generate_commitment_key(folder / "c.key")
    generate_commitment_key(folder / "d.key")
    return folder


@pytest.mark.parametrize("name", sorted(INTERNAL) + [f"public/{n}" for n in sorted(PUBLIC)])
def test_a_one_byte_change_is_named(tmp_path: Path, name: str) -> None:
    out = _folder(tmp_path)
    assert verify(out).ok and verify(out).manifests == ("manifest.json", "public/manifest.json")
    data = bytearray((out / name).read_bytes())
    data[0] ^= 0x01
    (out / name).write_bytes(bytes(data))
    report = verify(out)
    assert not report.ok and report.changed == (name,) and name in format_report(report)
    assert _verify(str(out))[0] == 1
    if name.startswith("public/"):   # the public folder alone catches it too, by its own manifest
        alone = verify(out / "public")
        assert alone.changed == (name.removeprefix("public/"),) and alone.manifests == ("manifest.json",)


def test_missing_and_added_files(tmp_path: Path) -> None:
    out = _folder(tmp_path)
    (out / "result.json").unlink()
    (out / "extra.txt").write_text("x")
    (out / "public" / "extra.txt").write_text("x")
    report = verify(out)
    assert report.missing == ("result.json",) and report.added == ("extra.txt", "public/extra.txt")
    assert not report.ok and verify(out / "public").added == ("extra.txt",)


def test_the_public_manifest_lists_only_public_files_and_no_internal_hash(tmp_path: Path) -> None:
    out = _folder(tmp_path)
    public = json.loads((out / "public" / "manifest.json").read_text())
    internal = json.loads((out / "manifest.json").read_text())
    assert sorted(f["path"] for f in public["files"]) == sorted(PUBLIC)
    assert sorted(f["path"] for f in internal["files"]) == sorted(
        [*INTERNAL, *(f"public/{n}" for n in PUBLIC), "public/manifest.json"])
    assert public["scope"] == "public" and public["public_sha256"] == "p" * 64
    assert not {"result_sha256", "data_sha256", "result_commitment"} & set(public)
    assert internal["result_sha256"] == "r" * 64 and internal["data_sha256"] == "d" * 64


def test_signatures_and_a_manifest_changed_after_signing(tmp_path: Path, keys: Path) -> None:
    out = _folder(tmp_path)
    assert verify(out, keys / "a.pub").signature == "absent" and _verify(str(out), "--key", str(keys / "a.pub"))[0] == 1
    _sign(out, keys / "a.pem")
    sig = json.loads((out / "manifest.sig").read_text())
    assert sig["algorithm"] == "ed25519"
    assert sig["manifest_sha256"] == hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    assert verify(out, keys / "a.pub").signature == "valid" and _verify(str(out), "--key", str(keys / "a.pub"))[0] == 0
    assert verify(out, keys / "b.pub").signature == "invalid" and _verify(str(out), "--key", str(keys / "b.pub"))[0] == 1
    assert verify(out).ok and "not checked" in format_report(verify(out))
    assert verify(out / "public", keys / "a.pub").signature == "valid"
    # a changed public file, re-hashed into the public manifest, with the old signature put back beside it
    public_signature = (out / "public" / "manifest.sig").read_bytes()
    (out / "public" / "public.json").write_bytes(b'{"n": 3}')
    write_public_manifest(out / "public", spec_sha256="s" * 64, public_sha256="p" * 64, toolkit_version="0.1.0",
                          seed=7)
    (out / "public" / "manifest.sig").write_bytes(public_signature)
    for extra in ((), ("--key", str(keys / "a.pub"))):
        code, output = _verify(str(out / "public"), *extra)
        assert code == 1 and "manifest.json was changed after signing" in output, output
    assert verify(out).signature == "invalid" and verify(out).changed == ("public/manifest.json", "public/public.json")


def test_a_rehashed_manifest_with_an_old_signature_fails_with_or_without_the_key(tmp_path: Path, keys: Path) -> None:
    out = _folder(tmp_path)
    _sign(out, keys / "a.pem")
    (out / "result.json").write_bytes(b'{"verdict": "pass"}')
    signature = (out / "manifest.sig").read_bytes()
    write_manifest(out, data_sha256="d" * 64, spec_sha256="s" * 64, result_sha256="r" * 64, toolkit_version="0.1.0",
                   seed=7)
    assert not (out / "manifest.sig").exists()            # a new manifest removes the signature of the old one
    (out / "manifest.sig").write_bytes(signature)          # ... which a forger puts back
    for extra in ((), ("--key", str(keys / "a.pub"))):
        code, output = _verify(str(out), *extra)
        assert code == 1 and "manifest.json was changed after signing" in output and "NOT verified" in output
    (out / "manifest.sig").write_text(json.loads(signature)["signature"] + "\n")   # the older base64-only form
    assert _verify(str(out))[0] == 0                      # without a hash beside it, only the key can tell
    assert _verify(str(out), "--key", str(keys / "a.pub"))[0] == 1
    sign_manifest(out, keys / "a.pem")
    (out / "manifest.sig").write_text(json.loads((out / "manifest.sig").read_text())["signature"] + "\n")
    assert verify(out, keys / "a.pub").signature == "valid"           # the older form still verifies
    (out / "manifest.sig").write_text("not a signature")
    assert verify(out).signature == "invalid" and _verify(str(out))[0] == 1


MALFORMED = {
    "not JSON": (b"{", "is not JSON"),
    "a list": (b"[]", "holds a JSON list"),
    "no files": (b'{"seed": 7}', "has no 'files' list"),
    "files not a list": (b'{"files": {}}', "'files' is dict, not a list"),
    "entry not an object": (b'{"files": ["a"]}', "files[0] is str"),
    "entry without path": (b'{"files": [{"sha256": "%s"}]}' % (b"a" * 64), "files[0] has no 'path'"),
    "path not a string": (b'{"files": [{"path": 3, "sha256": "%s"}]}' % (b"a" * 64), "files[0].path is 3"),
    "path outside": (b'{"files": [{"path": "../x", "sha256": "%s"}]}' % (b"a" * 64), "not a plain path"),
    "entry without sha256": (b'{"files": [{"path": "result.json"}]}', "files[0] (result.json) has no 'sha256'"),
    "sha256 not hex": (b'{"files": [{"path": "a", "sha256": 5}]}', "files[0] (a): 'sha256' is 5"),
    "bytes not a number": (b'{"files": [{"path": "a", "sha256": "%s", "bytes": "9"}]}' % (b"a" * 64), "'bytes'"),
    "a path twice": (b'{"files": [{"path": "a", "sha256": "%s"}, {"path": "a", "sha256": "%s"}]}'
                     % (b"a" * 64, b"b" * 64), "files[1] lists a a second time"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_manifest_exits_2_naming_the_entry(tmp_path: Path, case: str) -> None:
    out = _folder(tmp_path)
    text, said = MALFORMED[case]
    (out / "public" / "manifest.json").write_bytes(text)
    with pytest.raises(DataError, match="restore it from the copy you received") as caught:
        verify(out)
    assert str(caught.value).startswith(f"{out / 'public' / 'manifest.json'}: ") and said in str(caught.value)
    code, output = _verify(str(out / "public"))
    assert code == 2 and said in " ".join(output.split()), output


def test_the_commitment_round_trip(tmp_path: Path, keys: Path) -> None:
    key = read_commitment_key(keys / "c.key")
    assert len(key) == 32 and read_commitment_key(keys / "d.key") != key
    out = _folder(tmp_path, commit_key=key)
    commitment = json.loads((out / "public" / "manifest.json").read_text())["result_commitment"]
    digest = hashlib.sha256((out / "result.json").read_bytes()).hexdigest()
    assert digest not in (out / "public" / "manifest.json").read_text()
    assert commitment == hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()    # what a court recomputes
    assert verify(out, commit_key_path=keys / "c.key").commitment == "valid"
    assert _verify(str(out), "--commit-key", str(keys / "c.key"))[0] == 0
    assert verify(out, commit_key_path=keys / "d.key").commitment == "invalid"
    assert _verify(str(out / "public"), "--commit-key", str(keys / "c.key"), "--result", str(out / "result.json"))[0] == 0
    code, output = _verify(str(out / "public"), "--commit-key", str(keys / "c.key"))
    assert code == 2 and "--result" in output
    (out / "result.json").write_bytes(b'{"verdict": "pass"}')
    report = verify(out, commit_key_path=keys / "c.key")
    assert report.commitment == "invalid" and report.changed == ("result.json",)
    assert verify(_folder(tmp_path / "plain"), commit_key_path=keys / "c.key").commitment == "absent"


def test_bad_keys_and_folders_give_clear_errors(tmp_path: Path, keys: Path) -> None:
    out = _folder(tmp_path)
    with pytest.raises(UsageError, match="already exists"):
        generate_keypair(keys / "a.pem", tmp_path / "c.pub")
    with pytest.raises(UsageError, match="already exists"):
        generate_commitment_key(keys / "c.key")
    (tmp_path / "junk.pem").write_text("hello")
    with pytest.raises(UsageError, match="junk.pem.*not a PEM key"):
        sign_manifest(out, tmp_path / "junk.pem")
    with pytest.raises(UsageError, match="junk.pem.*not a commitment key.*audit keygen --commitment"):
        read_commitment_key(tmp_path / "junk.pem")
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
    assert base64.b64decode(json.loads(sign_manifest(out, keys / "a.pem").read_text())["signature"])


@pytest.fixture(scope="module")
def written(tmp_path_factory, keys: Path) -> Path:
    """One report written by write_report from a small data file with a group of 4 (so cells are withheld),
    signed and with a commitment (no PDF: the layout is the point)."""
    folder = tmp_path_factory.mktemp("report")
    data = synthetic(1500)
    data.loc[:3, "group"] = "d"
    data.to_csv(folder / "data.csv", index=False)
    (folder / "spec.yaml").write_text(yaml.safe_dump({**BASE_SPEC, "data": {"path": "data.csv"}}), encoding="utf-8")
    out = folder / "out"
    write_report(audit.run(folder / "spec.yaml"), out, pdf=False, sign_key=keys / "a.pem", commit_key=keys / "c.key")
    return out


def test_write_report_publishes_no_hash_of_unpublished_data(written: Path) -> None:
    public = written / "public"
    internal = json.loads((written / "manifest.json").read_text())
    manifest = json.loads((public / "manifest.json").read_text())
    names = {p.name for p in public.iterdir()}
    assert names == {"report.html", "public.json", "public.md", "manifest.json", "manifest.sig",
                     *(f"public_{t}.csv" for t in ("groups", "comparisons", "verdicts", "spread"))}
    assert {f["path"] for f in manifest["files"]} == names - {"manifest.json", "manifest.sig"}
    assert {p.name for p in written.iterdir() if p.is_file()} == {"result.json", "summary.md", "junit.xml",
                                                                  "manifest.json", "manifest.sig"}
    assert {f["path"] for f in internal["files"]} == {"result.json", "summary.md", "junit.xml",
                                                      *(f"public/{n}" for n in names)}
    secrets_ = {internal["result_sha256"], internal["data_sha256"],
                *(f["sha256"] for f in internal["files"] if not f["path"].startswith("public/"))}
    assert len(secrets_) == 5 and manifest["public_sha256"] not in secrets_   # cells were withheld
    for path in public.iterdir():
        text = path.read_text(encoding="utf-8")
        leaked = {s for s in secrets_ - {internal["data_sha256"]} if s in text}   # the report prints the data's
        assert not leaked, (path.name, leaked)
    assert internal["data_sha256"] not in (public / "manifest.json").read_text()
    assert manifest["public_sha256"] == json.loads((public / "public.json").read_text())["provenance"]["public_sha256"]
    assert manifest["spec_sha256"] == internal["spec_sha256"] and len(manifest["result_commitment"]) == 64


def test_write_report_verifies_whole_and_public_alone(written: Path, keys: Path) -> None:
    code, output = _verify(str(written), "--key", str(keys / "a.pub"), "--commit-key", str(keys / "c.key"))
    assert code == 0 and "manifest.json and public/manifest.json and the signatures are valid" in output
    assert "the result matches the commitment" in output
    assert _verify(str(written / "public"), "--key", str(keys / "a.pub"))[0] == 0
    assert _verify(str(written), "--commit-key", str(keys / "d.key"))[0] == 1


def test_keygen_makes_a_commitment_key_or_says_what_to_give(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["keygen", "--commitment", str(tmp_path / "c.key")])
    assert made.exit_code == 0 and "keep it secret" in made.output
    assert len(read_commitment_key(tmp_path / "c.key")) == 32 and (tmp_path / "c.key").stat().st_mode & 0o077 == 0
    for args in ([], ["--private", str(tmp_path / "a.pem")]):
        refused = runner.invoke(main, ["keygen", *args])
        assert refused.exit_code == 2 and "--commitment" in refused.output and not (tmp_path / "a.pem").exists()
