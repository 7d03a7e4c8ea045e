"""A local history of audits in one SQLite file, so that past audits can be reopened and compared.

The registry stores, per audit, the spec (as :func:`audit.spec.spec_to_dict`
gives it), the result (``result.json``'s shape), optionally the counts the
result was derived from (:mod:`audit.counts_store`) and the report's HTML. It
never stores row-level data: the counts are aggregates per cell, and nothing
else about the data but its SHA-256 is kept.

Access control is by user name: an audit belongs to the user who saved it
and is visible to its owner, and to everyone once it is shared. ``user=None``
means no access control (a single-user installation, or an administrator).
An audit that is not visible to a user is reported exactly as one that does
not exist, so the registry never tells whether an id is taken.

Every operation opens its own connection and closes it before returning, and
writes take SQLite's write lock first (``BEGIN IMMEDIATE``), so one
:class:`Registry` (or several on the same file) may be used from several
threads, such as the sessions of one Streamlit server, and from several
processes.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.counts import RawCounts
from audit.counts_store import dump_counts, load_counts
from audit.errors import DataError, ReasonCode, UsageError
from audit.result import AuditResult
from audit.spec import spec_to_dict

__all__ = ["SCHEMA_VERSION", "AuditRecord", "Registry", "StoredAudit"]

SCHEMA_VERSION = 1
"""Version of the registry's tables, kept in the file's ``PRAGMA user_version``."""

_TIMEOUT_SECONDS = 30.0  # how long an operation waits for another connection's write lock

_SCHEMA = (
    """CREATE TABLE audits (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        system TEXT NOT NULL,
        created_at TEXT NOT NULL,
        audited_at TEXT NOT NULL,
        owner TEXT NOT NULL,
        shared INTEGER NOT NULL CHECK (shared IN (0, 1)),
        data_sha256 TEXT,
        spec_sha256 TEXT NOT NULL,
        result_sha256 TEXT NOT NULL,
        verdict TEXT NOT NULL,
        fail_count INTEGER NOT NULL,
        pass_count INTEGER NOT NULL,
        inconclusive_count INTEGER NOT NULL,
        toolkit_version TEXT NOT NULL,
        note TEXT)""",
    """CREATE TABLE audit_contents (
        audit_id INTEGER PRIMARY KEY REFERENCES audits (id),
        spec_json TEXT NOT NULL,
        result_json TEXT NOT NULL,
        counts BLOB,
        report_html TEXT)""",
    "CREATE INDEX audits_by_owner ON audits (owner, shared)",
    "CREATE INDEX audits_by_system ON audits (system)",
)
_RECORD_COLUMNS = ("id", "system", "created_at", "audited_at", "owner", "shared", "data_sha256", "spec_sha256",
                   "result_sha256", "verdict", "fail_count", "pass_count", "inconclusive_count", "toolkit_version",
                   "note")
_VISIBLE = "(? IS NULL OR owner = ? OR shared = 1)"


@dataclass(frozen=True)
class AuditRecord:
    """What the registry lists about one saved audit (its contents are in :class:`StoredAudit`).

    Attributes
    ----------
    id : int
        The registry's id of the audit (unique in its file, never reused).
    system : str
        The audited system's name (``system.name`` of the spec).
    created_at : str
        When the audit was saved: ISO 8601 in UTC, to the second.
    audited_at : str
        When the audit was run (``provenance.created_at`` of the result), ISO 8601 in UTC.
    owner : str
        The user who saved it.
    shared : bool
        Whether every user may see it.
    data_sha256 : str or None
        The data's SHA-256 or fingerprint (None when it was not computed).
    spec_sha256, result_sha256 : str
        SHA-256 of the spec and of the result's tables (see :attr:`audit.AuditResult.result_sha256`).
    verdict : str
        ``pass``, ``fail`` or ``inconclusive``.
    fail_count, pass_count, inconclusive_count : int
        How many rule × group verdicts are fail, pass and inconclusive.
    toolkit_version : str
        The toolkit version that ran the audit.
    note : str or None
        The owner's note.
    """

    id: int
    system: str
    created_at: str
    audited_at: str
    owner: str
    shared: bool
    data_sha256: str | None
    spec_sha256: str
    result_sha256: str
    verdict: str
    fail_count: int
    pass_count: int
    inconclusive_count: int
    toolkit_version: str
    note: str | None


@dataclass(frozen=True)
class StoredAudit:
    """A saved audit with its contents.

    Attributes
    ----------
    record : AuditRecord
        What the registry lists about it.
    spec : dict
        The spec as :func:`audit.spec.spec_to_dict` gave it; :func:`audit.validate_spec` turns it back into
        an :class:`~audit.spec.AuditSpec`.
    result : dict
        The result in the shape of ``result.json`` (:meth:`audit.AuditResult.to_dict`).
    counts : RawCounts or None
        The counts the result was derived from, when they were saved; :func:`audit.findings.derive` derives
        the same tables from them.
    report_html : str or None
        The oversight report's HTML, when it was saved.
    """

    record: AuditRecord
    spec: dict[str, Any]
    result: dict[str, Any]
    counts: RawCounts | None
    report_html: str | None


class Registry:
    """Audits saved in one SQLite file (created, with its tables, on first use).

    Parameters
    ----------
    path : str or Path
        The registry's file. Its folder must exist.

    Raises
    ------
    DataError
        If the file cannot be opened or created, is not an SQLite database,
        is an SQLite database of another program, or has a newer schema
        version than this toolkit reads.

    Examples
    --------
    >>> registry = Registry("audits.sqlite")                      # doctest: +SKIP
    >>> audit_id = registry.save(audit.run("spec.yaml"), owner="lan")  # doctest: +SKIP
    >>> [r.verdict for r in registry.list(user="lan")]            # doctest: +SKIP
    ['fail']
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._write_lock = threading.Lock()
        with self._transaction(write=True) as con:
            self._check_or_create(con)

    def __repr__(self) -> str:
        return f"Registry({str(self.path)!r})"

    # -- writing -------------------------------------------------------------

    def save(self, result: AuditResult, *, owner: str, shared: bool = False, counts: RawCounts | None = None,
             report_html: str | None = None, note: str | None = None) -> int:
        """Save an audit; return its id.

        Parameters
        ----------
        result : AuditResult
            The audit, as :func:`audit.run` returns it. Not modified.
        owner : str
            The user saving it (not empty); only the owner may share or delete it.
        shared : bool, default False
            Whether every user may see it.
        counts : RawCounts, optional
            The counts the result was derived from, stored losslessly so that the audit can be derived
            again (:mod:`audit.counts_store`). Never the rows.
        report_html : str, optional
            The oversight report's HTML.
        note : str, optional
            A note shown beside the audit in lists.

        Returns
        -------
        int
            The new audit's id.

        Raises
        ------
        UsageError
            If an argument has the wrong type or ``owner`` is empty.
        DataError
            If the registry's file cannot be written.
        """
        if not isinstance(result, AuditResult):
            raise UsageError(f"Registry.save needs an AuditResult (from audit.run); got {type(result).__name__}",
                             reason=ReasonCode.OPTION_INVALID)
        owner = _user_name(owner, "owner")
        for name, value in (("report_html", report_html), ("note", note)):
            if value is not None and not isinstance(value, str):
                raise UsageError(f"Registry.save: {name} must be text or None; got {type(value).__name__}",
                                 reason=ReasonCode.OPTION_INVALID)
        blob = dump_counts(counts) if counts is not None else None
        body = result.to_dict()
        provenance = body["provenance"]
        verdicts = body["verdict_counts"]
        record = (body["system"]["name"], _now(), provenance["created_at"], owner, int(bool(shared)),
                  provenance["data"]["sha256"], provenance["spec_sha256"], provenance["result_sha256"],
                  body["verdict"], verdicts["fail"], verdicts["pass"], verdicts["inconclusive"],
                  provenance["toolkit_version"], note)
        spec_json = json.dumps(spec_to_dict(result.spec), ensure_ascii=False, sort_keys=True, default=str)
        result_json = json.dumps(body, ensure_ascii=False, default=str)
        with self._transaction(write=True) as con:
            cursor = con.execute(f"INSERT INTO audits ({', '.join(_RECORD_COLUMNS[1:])}) "
                                 f"VALUES ({', '.join('?' * (len(_RECORD_COLUMNS) - 1))})", record)
            audit_id = int(cursor.lastrowid)
            con.execute("INSERT INTO audit_contents (audit_id, spec_json, result_json, counts, report_html) "
                        "VALUES (?, ?, ?, ?, ?)", (audit_id, spec_json, result_json, blob, report_html))
        return audit_id

    def set_shared(self, audit_id: int, shared: bool, *, user: str | None) -> AuditRecord:
        """Share an audit with every user, or stop sharing it; only its owner may.

        Parameters
        ----------
        audit_id : int
            The audit's id.
        shared : bool
            True to share, False to make it visible to its owner only.
        user : str or None
            The user asking; None means no access control.

        Returns
        -------
        AuditRecord
            The audit's record after the change.

        Raises
        ------
        UsageError
            ``AUDIT_NOT_FOUND`` if there is no such audit visible to ``user``;
            ``AUDIT_NOT_OWNER`` if ``user`` can see it but does not own it.
        """
        with self._transaction(write=True) as con:
            self._owned(con, audit_id, user, action="share or unshare")
            con.execute("UPDATE audits SET shared = ? WHERE id = ?", (int(bool(shared)), audit_id))
            return self._record(con, audit_id, user)

    def delete(self, audit_id: int, *, user: str | None) -> None:
        """Delete an audit and its contents; only its owner may (any user when ``user`` is None).

        Raises the same errors as :meth:`set_shared`: ``AUDIT_NOT_FOUND`` for an
        audit ``user`` cannot see, ``AUDIT_NOT_OWNER`` for one it sees but does not own.
        """
        with self._transaction(write=True) as con:
            self._owned(con, audit_id, user, action="delete")
            con.execute("DELETE FROM audit_contents WHERE audit_id = ?", (audit_id,))
            con.execute("DELETE FROM audits WHERE id = ?", (audit_id,))

    # -- reading -------------------------------------------------------------

    def list(self, *, user: str | None, system: str | None = None) -> list[AuditRecord]:
        """The audits ``user`` may see, newest saved first.

        Parameters
        ----------
        user : str or None
            Audits this user owns, and every shared audit; None lists every audit.
        system : str, optional
            Only audits of the system of this name.

        Returns
        -------
        list of AuditRecord
            Newest first (by the time saved, then by id); empty when there are none.
        """
        user = _optional_user(user)
        query = f"SELECT {', '.join(_RECORD_COLUMNS)} FROM audits WHERE {_VISIBLE}"
        parameters: list[Any] = [user, user]
        if system is not None:
            query += " AND system = ?"
            parameters.append(system)
        with self._transaction(write=False) as con:
            rows = con.execute(query + " ORDER BY created_at DESC, id DESC", parameters).fetchall()
        return [_to_record(row) for row in rows]

    def get(self, audit_id: int, *, user: str | None) -> StoredAudit:
        """One audit with its spec, result, counts and report.

        Parameters
        ----------
        audit_id : int
            The audit's id.
        user : str or None
            The user asking; None means no access control.

        Returns
        -------
        StoredAudit

        Raises
        ------
        UsageError
            ``AUDIT_NOT_FOUND`` if there is no such audit or ``user`` may not
            see it (the same message for both).
        DataError
            If its stored counts cannot be read (see :func:`audit.counts_store.load_counts`).
        """
        with self._transaction(write=False) as con:
            record = self._record(con, audit_id, user)
            spec_json, result_json, blob, report_html = con.execute(
                "SELECT spec_json, result_json, counts, report_html FROM audit_contents WHERE audit_id = ?",
                (audit_id,)).fetchone()
        return StoredAudit(record=record, spec=json.loads(spec_json), result=json.loads(result_json),
                           counts=load_counts(blob) if blob is not None else None, report_html=report_html)

    def systems(self, *, user: str | None) -> list[str]:
        """Names of the systems with at least one audit ``user`` may see, in alphabetical order."""
        user = _optional_user(user)
        with self._transaction(write=False) as con:
            rows = con.execute(f"SELECT DISTINCT system FROM audits WHERE {_VISIBLE} ORDER BY system",
                               (user, user)).fetchall()
        return [row[0] for row in rows]

    # -- internals -----------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """A new connection inside one transaction, committed on success and always closed.

        Writers in this process queue on a lock before asking SQLite for its
        write lock; SQLite's errors become a :class:`DataError` naming the file.
        """
        lock = self._write_lock if write else None
        if lock is not None:
            lock.acquire()
        con: sqlite3.Connection | None = None
        try:
            con = sqlite3.connect(self.path, timeout=_TIMEOUT_SECONDS, isolation_level=None)
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield con
            con.execute("COMMIT")
        except sqlite3.Error as error:
            raise self._unusable(error) from None
        finally:
            if con is not None:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                con.close()
            if lock is not None:
                lock.release()

    def _unusable(self, error: sqlite3.Error) -> DataError:
        text = str(error)
        if "not a database" in text:
            hint = "it is not an SQLite database; choose another file for the audit registry"
        elif "unable to open" in text:
            hint = "check that its folder exists and is writable"
        elif "locked" in text or "busy" in text:
            hint = f"another program held it for more than {_TIMEOUT_SECONDS:g} s; try again"
        else:
            hint = "check the file, or choose another one for the audit registry"
        return DataError(f"the audit registry '{self.path}' cannot be used: {text}; {hint}",
                         reason=ReasonCode.DATA_UNREADABLE)

    def _check_or_create(self, con: sqlite3.Connection) -> None:
        version = int(con.execute("PRAGMA user_version").fetchone()[0])
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        if version > SCHEMA_VERSION:
            raise DataError(f"the audit registry '{self.path}' has schema version {version}, newer than the "
                            f"version {SCHEMA_VERSION} this toolkit reads; open it with a newer version of the "
                            f"toolkit", reason=ReasonCode.DATA_UNREADABLE)
        if version == 0 and not tables:
            for statement in _SCHEMA:
                con.execute(statement)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        if version == 0 or not {"audits", "audit_contents"} <= tables:
            shown = ", ".join(sorted(tables)) or "none"
            raise DataError(f"'{self.path}' is an SQLite database but not an audit registry (schema version "
                            f"{version}, tables: {shown}); choose another file for the audit registry",
                            reason=ReasonCode.DATA_UNREADABLE)

    def _record(self, con: sqlite3.Connection, audit_id: int, user: str | None) -> AuditRecord:
        """The record of an audit visible to ``user``; else the not-found error."""
        audit_id = _audit_id(audit_id)
        user = _optional_user(user)
        row = con.execute(f"SELECT {', '.join(_RECORD_COLUMNS)} FROM audits WHERE id = ? AND {_VISIBLE}",
                          (audit_id, user, user)).fetchone()
        if row is None:
            raise UsageError(f"there is no audit {audit_id} in the audit registry '{self.path}' that "
                             f"{'you' if user is None else repr(user)} may open; list the audits that can be "
                             f"opened with Registry.list", reason=ReasonCode.AUDIT_NOT_FOUND)
        return _to_record(row)

    def _owned(self, con: sqlite3.Connection, audit_id: int, user: str | None, *, action: str) -> AuditRecord:
        """The record of an audit ``user`` owns; else the not-found or not-owner error."""
        record = self._record(con, audit_id, user)
        if user is not None and record.owner != user:
            raise UsageError(f"audit {record.id} in the audit registry '{self.path}' belongs to '{record.owner}'; "
                             f"only its owner can {action} it, and '{user}' is not its owner",
                             reason=ReasonCode.AUDIT_NOT_OWNER)
        return record


def _to_record(row: tuple[Any, ...]) -> AuditRecord:
    values = dict(zip(_RECORD_COLUMNS, row))
    values["shared"] = bool(values["shared"])
    return AuditRecord(**values)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _user_name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{field} must be a user name (non-empty text); got {value!r}",
                         reason=ReasonCode.OPTION_INVALID)
    return value


def _optional_user(value: Any) -> str | None:
    return None if value is None else _user_name(value, "user")


def _audit_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"an audit id must be an integer, as Registry.save returns it; got {value!r}",
                         reason=ReasonCode.OPTION_INVALID)
    return value
