"""``audit demo``: audit every bundled scenario and write their reports to one folder with an index page.

Each scenario is a folder of ``examples/`` with a ``spec.yaml``. Its full
report (what ``audit run --report`` writes: the evidence, and the public
release in ``public/``) goes to ``OUT/<scenario>/``, and
``OUT/index.html`` lists every scenario with its system, purpose, verdict and
counts of verdicts, linking to each report. A scenario whose audit raises an
error is listed with the error's message; the others still run.

A scenario with an ``expected_findings.yaml`` (its documented ground truth,
see :mod:`audit.expected`) is also checked against it, and the index says
whether the audit found exactly the disparities the scenario planted.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from audit.engine import run
from audit.errors import AuditError, ReasonCode, UsageError
from audit.expected import check_expected, load_expected
from audit.report.writer import write_report
from audit.result import AuditResult

_LINKS = ("public/report.html", "public/report.pdf", "result.json", "summary.md", "junit.xml")
"""Each scenario's files the index links to: the published report (``public/``), then the internal evidence."""


@dataclass(frozen=True)
class DemoEntry:
    """One scenario's outcome: its folder name, system, verdict (or error) and verdict counts."""

    name: str
    system: str
    purpose: str
    verdict: str
    counts: dict[str, int]
    error: str | None = None
    expected: str | None = None
    """Against the scenario's expected findings: 'findings as documented', or what differs; None without one."""


def bundled_examples() -> Path:
    """The ``examples/`` folder beside the installed package (a source checkout or an editable install)."""
    return Path(__file__).resolve().parent.parent / "examples"


def run_demo(out_dir: str | Path, examples: str | Path | None = None, *, pdf: bool = True) -> list[DemoEntry]:
    """Audit every ``*/spec.yaml`` under ``examples`` and write the reports and ``index.html`` into ``out_dir``.

    Raises
    ------
    UsageError
        (``DATA_NOT_FOUND``) when ``examples`` holds no scenario folder with a spec.yaml.
    """
    folder = Path(examples) if examples is not None else bundled_examples()
    specs = sorted(folder.glob("*/spec.yaml"))
    if not specs:
        raise UsageError(f"audit demo: no scenarios found in {folder} (folders with a spec.yaml); give the "
                         f"examples folder with --examples", reason=ReasonCode.DATA_NOT_FOUND)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for spec in specs:
        name = spec.parent.name
        try:
            result = run(spec)
            write_report(result, out / name, pdf=pdf)
            entries.append(DemoEntry(name=name, system=result.spec.system.name, purpose=result.spec.system.purpose
                                     or "", verdict=result.verdict, counts=result.verdict_counts(),
                                     expected=_against_expected(result, spec.parent / "expected_findings.yaml")))
        except AuditError as error:
            entries.append(DemoEntry(name=name, system=name, purpose="", verdict="error", counts={},
                                     error=str(error)))
    (out / "index.html").write_text(index_html(entries), encoding="utf-8")
    return entries


def _against_expected(result: AuditResult, path: Path) -> str | None:
    """'findings as documented' when the result makes exactly the expected findings, else what differs."""
    if not path.is_file():
        return None
    check = check_expected(result, load_expected(path))
    if check.ok:
        return "findings as documented"
    return (f"findings differ from {path.name}: {len(check.missing)} missing, {len(check.unexpected)} unexpected, "
            f"{len(check.other)} other")


def index_html(entries: list[DemoEntry]) -> str:
    """The index page: one row per scenario, with links to its files."""
    rows = []
    for e in entries:
        links = " · ".join(f'<a href="{html.escape(e.name)}/{f}">{f}</a>' for f in _LINKS) if e.error is None \
            else html.escape(e.error)
        counts = ", ".join(f"{e.counts.get(v, 0)} {v}" for v in ("fail", "pass", "inconclusive")) if e.counts else ""
        if e.expected:
            counts += f"<br><small>{html.escape(e.expected)}</small>"
        rows.append(f"<tr><td><b>{html.escape(e.system)}</b><br><small>{html.escape(e.purpose)}</small></td>"
                    f"<td class=\"{e.verdict}\">{e.verdict.upper()}</td><td>{counts}</td><td>{links}</td></tr>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Audits of the bundled "
            "scenarios</title><style>body{font-family:sans-serif;margin:2em}td,th{padding:.4em .8em;"
            "border-bottom:1px solid #ccc;vertical-align:top}.fail{color:#b00}.pass{color:#070}"
            ".inconclusive{color:#a60}.error{color:#b00}</style></head><body><h1>Audits of the bundled "
            "scenarios</h1><p>Each row is one public-sector scenario audited with its spec; the report "
            "explains every verdict.</p><table><tr><th>system</th><th>verdict</th><th>rule × group verdicts"
            "</th><th>files</th></tr>" + "".join(rows) + "</table></body></html>\n")
