"""Write the oversight report and its evidence beside an audit's machine-readable results.

One call writes, into one folder: ``result.json`` (internal, complete),
``summary.md`` and ``junit.xml`` (as ``audit run`` does), ``report.html`` and
``report.pdf`` (published: small cells suppressed), the public variants
(``public.json``, ``public.md``, ``public_*.csv``), and ``manifest.json`` with
the SHA-256 of every file, optionally signed (``manifest.sig``).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from audit.evidence import sign_manifest, write_manifest
from audit.outputs import write_outputs
from audit.report.content import build_content, read_alternatives
from audit.report.html import render_html
from audit.report.pdf import html_to_pdf
from audit.result import AuditResult
from audit.suppression import public_json, public_markdown, suppress, write_public_csv


@dataclass(frozen=True)
class ReportFiles:
    """Paths written, by file name, and how long the HTML and PDF took (seconds)."""

    paths: dict[str, Path]
    html_seconds: float
    pdf_seconds: float


def render_report_html(result: AuditResult, *, lang: str | None = None, today: dt.date | None = None,
                       alternatives: dict[str, Any] | None = None) -> str:
    """The published report as HTML text (small cells suppressed), in ``lang`` or the spec's language.

    ``alternatives`` is the content of an ``alternatives.json`` (see
    :func:`audit.report.content.read_alternatives`), shown with the recommendations.
    """
    k = result.spec.report.small_cell_k
    public = suppress(result, k)
    tables = {"groups": public.groups, "comparisons": public.comparisons, "verdicts": public.verdicts,
              "flips": public.tables.get("flips", pd.DataFrame())}
    content = build_content(result, tables=tables, today=today, notes=list(public.notes), alternatives=alternatives)
    return render_html(content, lang=lang or result.spec.report.language,
                       confidence=result.spec.statistics.confidence)


def write_report(result: AuditResult, out_dir: str | Path, *, lang: str | None = None, pdf: bool = True,
                 sign_key: str | Path | None = None, strict: bool = False,
                 today: dt.date | None = None) -> ReportFiles:
    """Write every output of the audit and its report into ``out_dir``; returns the paths written.

    ``lang`` overrides ``report.language`` of the spec; ``sign_key`` is an
    Ed25519 private key (PEM) to sign the manifest with. When ``out_dir``
    already holds ``alternatives.json`` (from ``audit alternatives SPEC --out
    DIR``), the report shows its alternatives; the manifest lists it with
    every other file of the folder.
    """
    out = Path(out_dir)
    alternatives = read_alternatives(out)
    paths = dict(write_outputs(result, out, strict=strict))
    k = result.spec.report.small_cell_k
    start = time.perf_counter()
    html = render_report_html(result, lang=lang, today=today, alternatives=alternatives)
    (out / "report.html").write_text(html, encoding="utf-8")
    paths["report.html"] = out / "report.html"
    html_seconds = time.perf_counter() - start
    start = time.perf_counter()
    if pdf:
        paths["report.pdf"] = html_to_pdf(html, out / "report.pdf")
    pdf_seconds = time.perf_counter() - start
    (out / "public.json").write_text(public_json(result, k), encoding="utf-8")
    (out / "public.md").write_text(public_markdown(result, k), encoding="utf-8")
    paths["public.json"], paths["public.md"] = out / "public.json", out / "public.md"
    for path in write_public_csv(result, k, out):
        paths[path.name] = path
    provenance = result.provenance
    paths["manifest.json"] = write_manifest(out, data_sha256=provenance.data.sha256,
                                            spec_sha256=provenance.spec_sha256, result_sha256=result.result_sha256,
                                            toolkit_version=provenance.toolkit_version, seed=provenance.seed)
    if sign_key is not None:
        paths["manifest.sig"] = sign_manifest(out, Path(sign_key))
    return ReportFiles(paths=paths, html_seconds=html_seconds, pdf_seconds=pdf_seconds)


def evidence_bundle(result: AuditResult, *, lang: str | None = None, sign_key: str | Path | None = None,
                    today: dt.date | None = None) -> bytes:
    """Every output of :func:`write_report`, with the spec as ``spec.yaml``, as the bytes of one ZIP file.

    The manifest inside lists ``spec.yaml`` too, so ``audit verify`` on the
    unpacked folder checks every file. The files are made in a temporary
    folder that is removed before returning; they hold counts and results,
    never the audited rows.
    """
    import io
    import tempfile
    import zipfile

    from audit.spec import spec_to_yaml

    with tempfile.TemporaryDirectory(prefix="audit-bundle-") as folder:
        out = Path(folder)
        (out / "spec.yaml").write_text(spec_to_yaml(result.spec), encoding="utf-8")
        files = write_report(result, out, lang=lang, sign_key=sign_key, today=today)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted({out / "spec.yaml", *files.paths.values()}):
                archive.write(path, arcname=path.name)
    return buffer.getvalue()
