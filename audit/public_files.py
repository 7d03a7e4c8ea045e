"""The public files of a release: ``public.json``, ``public.md`` and one ``public_<table>.csv`` per table.

Every writer formats a :class:`~audit.release.PublicRelease` (built once by :func:`~audit.release.build_release`)
and nothing else; given an :class:`~audit.result.AuditResult` instead, it builds the release first, which is
convenient for one file but runs suppression and the disclosure audit again: :func:`audit.report.writer.write_report`
builds the release once and passes it to every writer.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Union

import numpy as np
import pandas as pd

from audit.outputs import family_sentence, markdown_cell, verdict_sections, why
from audit.release import PublicRelease, build_release
from audit.result import AuditResult
from audit.suppression import neutralise_cell
from audit.wording import SYMBOL, interval, number, p_value

__all__ = ["as_release", "public_dict", "public_json", "public_markdown", "write_public_csv"]

Source = Union[PublicRelease, AuditResult]
"""What a writer formats: a release, or a result to build one from."""


def as_release(source: Source, k: int | None = None) -> PublicRelease:
    """``source`` itself when it is a release (``k`` must then be None or its own), else its release."""
    if isinstance(source, PublicRelease):
        if k is not None and k != source.k:
            raise ValueError(f"parameter k of a public writer must be the release's own ({source.k}) or None; got {k}")
        return source
    return build_release(source, k)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _public_count(value: Any) -> Any:
    """A published count as an int when whole (``2013.0`` is written ``2013``); labels pass through."""
    if isinstance(value, (float, np.floating)) and not math.isnan(value) and float(value).is_integer():
        return int(value)
    return value


def public_dict(source: Source, k: int | None = None) -> dict[str, Any]:
    """The public ``result.json`` as a dict: the internal shape with the published tables, label counts and
    notes, ``"public": true``, ``"small_cell_k"``, the cells withheld by rule and the disclosure audit.

    ``provenance.public_sha256`` is the SHA-256 of the published tables; no hash of the unsuppressed tables
    is published (it would let anyone test guesses of a withheld count)."""
    release = as_release(source, k)
    body = release.result.to_dict()
    provenance = dict(body["provenance"])
    provenance["public_sha256"] = provenance.pop("result_sha256")
    body.update({"public": True, "small_cell_k": release.k, "labels": release.labels, "provenance": provenance,
                 "withheld_cells": release.withheld, "disclosure_check": release.check.as_dict()})
    return body


def public_json(source: Source, k: int | None = None, *, indent: int = 2) -> str:
    """The public ``result.json`` text (see :func:`public_dict`); NaN is written ``null``."""
    return json.dumps(public_dict(source, k), indent=indent, ensure_ascii=False, default=str)


def _cell(value: Any) -> str:
    return "" if _missing(value) else markdown_cell(value)


def _count_text(value: Any) -> str:
    if _missing(value):
        return "n/a"
    return value if isinstance(value, str) else number(_public_count(value))


def public_markdown(source: Source, k: int | None = None) -> str:
    """A short public summary: verdict, the family of verdicts, the suppression rule, every rule's per-group
    verdicts, notes.

    Each verdict row gives the estimate with its ordinary and its family-level interval, the family-adjusted
    p-value and why (for an inconclusive verdict, what would decide it), as ``summary.md`` does; a verdict whose
    numbers are withheld shows its word and its published counts only.
    """
    release = as_release(source, k)
    result = release.result
    counts = result.verdict_counts()
    lines = [f"# Audit: {_cell(result.spec.system.name)}", "",
             f"**Overall verdict: {SYMBOL[result.verdict]}** ({counts['fail']} fail, {counts['pass']} pass, "
             f"{counts['inconclusive']} inconclusive)", "",
             f"- {_capitalised(family_sentence(result.family))}",
             f"- Published with small-cell suppression: counts below {release.k} are shown as \"< {release.k}\" and "
             f"the numbers built on them are withheld; further counts are withheld where they would let a "
             f"withheld one be worked out. Verdicts are always shown.",
             f"- {release.check.sentence()}",
             f"- Data: {_count_text(result.provenance.rows_used)} of {_count_text(result.provenance.rows_read)} "
             f"rows audited",
             f"- Decision views: {', '.join(_cell(v) for v in result.spec.view_names())}", ""]
    lines += verdict_sections(result, _public_verdict_row)
    if result.notes:
        lines += ["## Notes", ""] + [f"- {_cell(n)}" for n in result.notes] + [""]
    return "\n".join(lines)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _public_verdict_row(r: dict[str, Any], result: AuditResult) -> str:
    """One verdict of public.md; ``r`` is a row of the suppressed verdicts (withheld numbers are missing)."""
    estimate = "withheld" if _missing(r["estimate"]) and str(r["reason"]).startswith("withheld") \
        else number(r["estimate"])
    cells = [_cell(r["view"]), _cell(r["attribute"]), _cell(r["group"]), _cell(r["reference"]), estimate,
             interval(r["ci_low"], r["ci_high"]), interval(r["family_ci_low"], r["family_ci_high"]),
             _count_text(r["n"]), _count_text(r["reference_n"]), p_value(r["p_family"]), f"**{r['verdict']}**",
             _cell(why(r, result))]
    return "| " + " | ".join(cells) + " |"


def write_public_csv(source: Source, k: int | None, out_dir: str | Path) -> list[Path]:
    """Write one CSV per public table (``public_groups.csv``, ``public_comparisons.csv``, ...) into ``out_dir``
    (created if needed) and return the paths. Text cells that begin with ``= + - @``, tab or carriage return
    get a leading ``'`` against formula injection; numbers are written as numbers."""
    release = as_release(source, k)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in release.tables().items():
        path = out / f"public_{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([neutralise_cell(str(c)) for c in frame.columns])
            writer.writerows(zip(*(_csv_column(frame.iloc[:, j]) for j in range(frame.shape[1]))))
        paths.append(path)
    return paths


def _csv_column(column: pd.Series) -> list[Any]:
    """The cells of one column of a public CSV (:func:`_csv_cell`), numpy number columns without a call each."""
    values = column.tolist()
    if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
        return ["" if math.isnan(v) else v for v in values]
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iub":
        return values
    return [_csv_cell(v) for v in values]


def _csv_cell(value: Any) -> Any:
    """A cell of a public CSV: empty when missing, numbers as numbers, text safe from formula injection."""
    if isinstance(value, str):
        return neutralise_cell(value)
    return "" if _missing(value) else neutralise_cell(_scalar(value))


def _scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value
