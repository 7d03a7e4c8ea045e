"""The audit registry: save, list, open, share and delete by user; no row-level data in the file."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
import zipfile
from pathlib import Path

import pytest

import audit
from audit.errors import DataError, ReasonCode, UsageError
from audit.findings import derive
from audit.registry import SCHEMA_VERSION, AuditRecord, Registry
from audit.result import table_records
from audit.sources import count_source, plan_for
from audit.spec import load_spec
from conftest import BASE_SPEC, synthetic


@pytest.fixture(scope="module")
def audited() -> tuple[audit.AuditResult, object]:
    """An audit of the synthetic table with the counts it was derived from."""
    frame = synthetic()
    spec, base = load_spec(BASE_SPEC)
    raw, _ = count_source(spec, base, frame)
    return audit.run(BASE_SPEC, frame), raw


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "audits.sqlite")


def test_a_new_file_gets_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Registry(path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert Registry(path).list(user=None) == []  # opening again keeps it


def test_save_list_get_share_delete_with_two_users(registry: Registry, audited) -> None:
    result, raw = audited
    mine = registry.save(result, owner="lan", counts=raw, report_html="<p>report</p>", note="first run")
    shared = registry.save(result, owner="minh", shared=True)
    private = registry.save(result, owner="minh")
    assert [r.id for r in registry.list(user=None)] == [private, shared, mine]  # newest first
    assert [r.id for r in registry.list(user="lan")] == [shared, mine]
    assert [r.id for r in registry.list(user="minh")] == [private, shared]
    assert registry.list(user="lan", system="another system") == []
    assert registry.systems(user="lan") == ["synthetic"]

    record = registry.get(mine, user="lan").record
    counts = result.verdict_counts()
    assert isinstance(record, AuditRecord)
    assert (record.owner, record.shared, record.system, record.note) == ("lan", False, "synthetic", "first run")
    assert (record.fail_count, record.pass_count, record.inconclusive_count) == (
        counts["fail"], counts["pass"], counts["inconclusive"])
    assert record.verdict == result.verdict and record.result_sha256 == result.result_sha256
    assert record.spec_sha256 == result.provenance.spec_sha256
    assert record.data_sha256 == result.provenance.data.sha256
    assert record.audited_at == result.provenance.created_at and record.created_at.endswith("+00:00")
    assert record.toolkit_version == audit.__version__

    stored = registry.get(mine, user="lan")
    assert stored.report_html == "<p>report</p>" and stored.spec == audit.spec.spec_to_dict(result.spec)
    assert stored.result == json.loads(result.to_json())
    assert registry.get(shared, user="lan").counts is None

    with pytest.raises(UsageError) as error:
        registry.set_shared(shared, False, user="lan")
    assert error.value.reason is ReasonCode.AUDIT_NOT_OWNER
    assert registry.set_shared(mine, True, user="lan").shared
    assert mine in [r.id for r in registry.list(user="minh")]
    with pytest.raises(UsageError, match="only its owner can delete"):
        registry.delete(mine, user="minh")
    registry.delete(mine, user="lan")
    assert [r.id for r in registry.list(user=None)] == [private, shared]
    registry.delete(private, user=None)  # no access control
    assert registry.systems(user="lan") == ["synthetic"] and registry.systems(user=None) == ["synthetic"]


def test_access_denied_looks_like_not_found(registry: Registry, audited) -> None:
    result, _ = audited
    audit_id = registry.save(result, owner="lan")
    messages = []

    def attempts() -> None:
        for call in (lambda: registry.get(audit_id, user="minh"), lambda: registry.delete(audit_id, user="minh"),
                     lambda: registry.set_shared(audit_id, True, user="minh")):
            with pytest.raises(UsageError) as error:
                call()
            assert error.value.reason is ReasonCode.AUDIT_NOT_FOUND
            messages.append(str(error.value))

    attempts()  # the audit exists but is another user's
    registry.delete(audit_id, user="lan")
    attempts()  # the audit no longer exists
    assert messages[:3] == messages[3:] and str(audit_id) in messages[0]
    assert registry.list(user="minh") == [] and registry.systems(user="minh") == []


def test_reopened_counts_derive_the_stored_result(registry: Registry, audited) -> None:
    result, raw = audited
    stored = registry.get(registry.save(result, owner="lan", counts=raw), user="lan")
    spec = audit.validate_spec(stored.spec)
    findings = derive(spec, stored.counts, plan_for(spec).roles, source="the stored counts")
    for name in ("groups", "comparisons", "verdicts", "spread"):
        again = json.loads(json.dumps(table_records(getattr(findings, name)), default=str))
        assert again == stored.result[name], name


def test_no_row_level_data_is_stored(tmp_path: Path) -> None:
    frame = synthetic()
    ids = [f"PERSON-{i:05d}-QX" for i in range(len(frame))]
    frame = frame.assign(person_id=ids, remark="nothing to see")
    frame.loc[17, "remark"] = "UNIQUE-MARKER-7f3a9c"
    frame.loc[23, "sex"] = "PROTECTED-MARKER"  # a group label is an aggregate: it may be stored
    spec, base = load_spec(BASE_SPEC)
    raw, _ = count_source(spec, base, frame)
    result = audit.run(BASE_SPEC, frame)
    from audit.report.writer import render_report_html

    registry = Registry(tmp_path / "audits.sqlite")
    registry.save(result, owner="lan", counts=raw, report_html=render_report_html(result), note="marker test")
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    with sqlite3.connect(tmp_path / "audits.sqlite") as con:
        (blob,), = con.execute("SELECT counts FROM audit_contents").fetchall()
    with zipfile.ZipFile(io.BytesIO(blob)) as zipped:  # the counts are compressed: look inside too
        stored += b"".join(zipped.read(name) for name in zipped.namelist())
    assert b"PROTECTED-MARKER" in stored  # the check can see what is there
    for marker in ["UNIQUE-MARKER-7f3a9c", "nothing to see", *ids[::50]]:
        assert marker.encode() not in stored, marker
        assert marker.encode("utf-16-le") not in stored, marker


def test_several_threads_save_at_once(registry: Registry, audited) -> None:
    result, raw = audited
    ids: list[int] = []
    failures: list[BaseException] = []

    def save(owner: str) -> None:
        try:
            for _ in range(20):
                ids.append(registry.save(result, owner=owner, counts=raw))
        except BaseException as error:  # noqa: BLE001 - collected and reported by the test
            failures.append(error)

    threads = [threading.Thread(target=save, args=(owner,)) for owner in ("lan", "minh")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(set(ids)) == 40 and sorted(r.id for r in registry.list(user=None)) == sorted(ids)
    assert len(registry.list(user="lan")) == len(registry.list(user="minh")) == 20


def test_a_second_registry_object_on_the_same_file_sees_the_same_audits(tmp_path: Path, audited) -> None:
    result, _ = audited
    first, second = Registry(tmp_path / "a.sqlite"), Registry(tmp_path / "a.sqlite")
    audit_id = first.save(result, owner="lan", shared=True)
    assert second.get(audit_id, user="minh").record.id == audit_id


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"These are my notes, not a database. " * 200)
    with pytest.raises(DataError, match=r"notes\.sqlite.*not an SQLite database"):
        Registry(path)


def test_a_database_of_another_program(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    with pytest.raises(DataError, match=r"other\.sqlite' is an SQLite database but not an audit registry.*customers"):
        Registry(path)


def test_a_newer_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    Registry(path)
    with sqlite3.connect(path) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DataError, match=rf"future\.sqlite' has schema version {SCHEMA_VERSION + 1}, newer"):
        Registry(path)


def test_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="folder exists"):
        Registry(tmp_path / "no such folder" / "audits.sqlite")


def test_bad_arguments(registry: Registry, audited) -> None:
    result, _ = audited
    with pytest.raises(UsageError, match="owner must be a user name"):
        registry.save(result, owner="  ")
    with pytest.raises(UsageError, match="needs an AuditResult"):
        registry.save(result.to_dict(), owner="lan")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="an audit id must be an integer"):
        registry.get("1", user="lan")  # type: ignore[arg-type]
