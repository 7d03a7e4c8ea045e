"""A pytest plugin: after the session, the attacker's LP audit runs on every published folder the tests wrote.

Enable it in ``tests/conftest.py`` with ``pytest_plugins = ["attacker.plugin"]``. Every folder under the
session's base temporary directory that holds a ``public.json`` (``audit demo`` scenarios, reports written
by any test) is audited with :func:`attacker.lp_audit.audit_folder`; a withheld count the published numbers
narrow below the protection rule fails the session, with the folder, table, row and interval.

The check is the quick form of the audit (its cost per folder, measured on ``audit demo``: under 1 s, and
about 7 s for the largest scenario, welfare_scores): attributes share cells only through an intersection
(``joint=False``), it stops after the first few violations, and a complement the batched LPs never see below
k is taken as unprotected without its own LP (``settle=False``). tests/attacker/test_attacks.py runs the full,
joint audit on its own folders.

Folders a test writes on purpose as a leak (the auditor's own null check) carry a file named
``PLANTED_LEAK`` and are left out. Set ``AUDIT_LP_CHECK=0`` to skip the check.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from attacker.lp_audit import ModelError, audit_folder, published_folders

PLANTED = "PLANTED_LEAK"
_SHOWN = 5


def folders_to_check(root: Path) -> list[Path]:
    """Published folders under ``root`` except planted leaks (a ``PLANTED_LEAK`` file in them or a parent)."""
    return [f for f in published_folders(root)
            if not any((p / PLANTED).exists() for p in (f, *f.parents) if p.is_relative_to(root))]


def check_folder(folder: Path) -> str | None:
    """A message about ``folder`` when the quick audit finds a withheld count narrowed below the rule, else None."""
    try:
        report = audit_folder(folder, limit=_SHOWN, settle=False)
    except ModelError as error:
        return f"{folder}: {error}"
    if not report.violations:
        return None
    shown = "\n    ".join(str(v) for v in report.violations[:_SHOWN])
    return (f"{folder}: {len(report.violations)}+ withheld counts narrowed below the rule "
            f"(of {report.checked}):\n    {shown}")


def check(root: Path) -> tuple[list[str], int, float]:
    """(messages about leaking folders, folders checked, seconds): the quick audit of every folder under root."""
    start = time.perf_counter()
    folders = folders_to_check(root)
    messages = [m for m in map(check_folder, folders) if m is not None]
    return messages, len(folders), time.perf_counter() - start


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("AUDIT_LP_CHECK", "1") == "0" or hasattr(session.config, "workerinput"):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    base = getattr(factory, "_basetemp", None) if factory is not None else None
    if base is None or not Path(base).exists():
        return
    messages, count, seconds = check(Path(base))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"attacker LP audit: {count} published folder(s) in {seconds:.1f} s, "
                            f"{len(messages)} leaking")
        for message in messages:
            reporter.write_line(message, red=True)
    if messages:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
