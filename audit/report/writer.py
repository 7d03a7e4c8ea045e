"""Write the oversight report and its evidence beside an audit's machine-readable results.

One call writes the internal evidence into ``OUT``: ``result.json`` (complete),
``summary.md`` and ``junit.xml`` (as ``audit run`` does), and the public release
into ``OUT/public``: ``report.html`` and ``report.pdf``, ``public.json``,
``public.md`` and ``public_*.csv`` (small cells suppressed), with a manifest of
its own files only (``OUT/public/manifest.json``: no hash of unpublished data).
``OUT/manifest.json`` lists every file of both, with the data, spec and result
hashes; both manifests are signed on request (``manifest.sig``). Publish
``OUT/public`` as it is; keep the rest of ``OUT`` internal.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from audit.errors import ReasonCode, UsageError
from audit.evidence import (PUBLIC_DIR, read_commitment_key, read_private_key, result_commitment,
                            sign_manifest, write_manifest, write_public_manifest)
from audit.outputs import write_outputs
from audit.report.content import build_content, read_alternatives
from audit.report.html import render_html
from audit.report.pdf import html_to_pdf
from audit.public_files import Source, as_release, public_json, public_markdown, write_public_csv
from audit.release import PublicRelease, build_release
from audit.result import AuditResult


@dataclass(frozen=True)
class ReportFiles:
    """Paths written, by their path relative to the folder (``result.json``, ``public/report.html``,
    ``public/manifest.json``, ``manifest.json``), and how long the HTML and PDF took (seconds)."""

    paths: dict[str, Path]
    html_seconds: float
    pdf_seconds: float


def render_report_html(source: Source, *, lang: str | None = None, today: dt.date | None = None,
                       alternatives: dict[str, Any] | None = None) -> str:
    """The published report as HTML text, rendered from the public release (:mod:`audit.release`), in ``lang``
    or the spec's language. ``source`` is the release, or a result to build it from.

    ``alternatives`` is the content of an ``alternatives.json`` (see
    :func:`audit.report.content.read_alternatives`), shown with the recommendations.
    """
    release = as_release(source)
    spec = release.result.spec
    content = build_content(release, today=today, alternatives=alternatives)
    return render_html(content, lang=lang or spec.report.language, confidence=spec.statistics.confidence)


_PUBLISHED = ("report.html", "report.pdf", "public.json", "public.md")


def _remove_published(folder: Path) -> None:
    """Remove the published files an earlier run left in ``folder`` (also ``OUT`` itself, where releases went
    before they had a folder of their own), so a release is never mixed with an older one's files."""
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() and (path.name in _PUBLISHED or (path.name.startswith("public_")
                                                                and path.suffix == ".csv")):
                path.unlink()


def _outside(out: Path, key: str | Path | None, option: str) -> Path | None:
    """``key`` as a path, refused when it lies inside the report folder (the folder is handed over)."""
    if key is None:
        return None
    path = Path(key)
    if path.resolve().is_relative_to(out.resolve()):
        raise UsageError(f"{option} '{path}' is inside the report folder '{out}', which is handed over with its "
                         f"files; keep keys outside it", reason=ReasonCode.OPTION_INVALID)
    return path


def write_report(result: AuditResult, out_dir: str | Path, *, lang: str | None = None, pdf: bool = True,
                 sign_key: str | Path | None = None, strict: bool = False,
                 today: dt.date | None = None, commit_key: str | Path | None = None,
                 release: PublicRelease | None = None) -> ReportFiles:
    """Write the internal evidence into ``out_dir`` and the public release into ``out_dir/public``; returns the
    paths written.

    ``lang`` overrides ``report.language`` of the spec; ``sign_key`` is an
    Ed25519 private key (PEM) to sign both manifests with; ``commit_key`` is a
    commitment key file (``audit keygen --commitment KEY``): the public
    manifest then carries ``result_commitment``, the keyed hash of
    ``result.json`` (see :func:`audit.evidence.result_commitment`). Keys are
    read before anything is written, and refused inside ``out_dir``. When
    ``out_dir`` already holds ``alternatives.json`` (from ``audit alternatives
    SPEC --out DIR``), the report shows its alternatives; the internal manifest
    lists it with every other file of the folder. Published files of an earlier
    run in ``out_dir`` or ``out_dir/public`` are removed first. ``release`` is
    ``result``'s public release when the caller built it already (the app does,
    for its preview); by default it is built here, once for every published file.
    """
    out = Path(out_dir)
    sign_path, commit_path = _outside(out, sign_key, "--sign"), _outside(out, commit_key, "--commit-key")
    signer = read_private_key(sign_path) if sign_path is not None else None
    committer = read_commitment_key(commit_path) if commit_path is not None else None
    alternatives = read_alternatives(out)
    paths = dict(write_outputs(result, out, strict=strict))
    public = out / PUBLIC_DIR
    _remove_published(out)
    _remove_published(public)
    public.mkdir(parents=True, exist_ok=True)
    if release is None:
        release = build_release(result)  # suppression and the disclosure audit, once for every published file
    start = time.perf_counter()
    html = render_report_html(release, lang=lang, today=today, alternatives=alternatives)
    (public / "report.html").write_text(html, encoding="utf-8")
    html_seconds = time.perf_counter() - start
    start = time.perf_counter()
    if pdf:
        html_to_pdf(html, public / "report.pdf")
    pdf_seconds = time.perf_counter() - start
    (public / "public.json").write_text(public_json(release), encoding="utf-8")
    (public / "public.md").write_text(public_markdown(release), encoding="utf-8")
    written = [public / "report.html", *([public / "report.pdf"] if pdf else []), public / "public.json",
               public / "public.md", *write_public_csv(release, None, public)]
    provenance = result.provenance
    commitment = result_commitment(paths["result.json"], committer) if committer is not None else None
    written.append(write_public_manifest(public, spec_sha256=provenance.spec_sha256,
                                         public_sha256=release.public_sha256,
                                         toolkit_version=provenance.toolkit_version, seed=provenance.seed,
                                         result_commitment=commitment))
    if signer is not None:
        written.append(sign_manifest(public, signer))
    paths |= {f"{PUBLIC_DIR}/{path.name}": path for path in written}
    paths["manifest.json"] = write_manifest(out, data_sha256=provenance.data.sha256,
                                            spec_sha256=provenance.spec_sha256, result_sha256=result.result_sha256,
                                            toolkit_version=provenance.toolkit_version, seed=provenance.seed)
    if signer is not None:
        paths["manifest.sig"] = sign_manifest(out, signer)
    return ReportFiles(paths=paths, html_seconds=html_seconds, pdf_seconds=pdf_seconds)


def evidence_bundle(result: AuditResult, *, lang: str | None = None, sign_key: str | Path | None = None,
                    today: dt.date | None = None, release: PublicRelease | None = None) -> bytes:
    """Every output of :func:`write_report`, with the spec as ``spec.yaml``, as the bytes of one ZIP file.

    The ZIP holds the folder's layout (the public release under ``public/``).
    The internal manifest lists ``spec.yaml`` too, so ``audit verify`` on the
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
        files = write_report(result, out, lang=lang, sign_key=sign_key, today=today, release=release)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted({out / "spec.yaml", *files.paths.values()}):
                archive.write(path, arcname=path.relative_to(out).as_posix())
    return buffer.getvalue()
