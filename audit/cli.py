"""The ``audit`` command: a thin layer over the public API.

Exit codes: 0 every rule passes (inconclusive allowed unless ``--strict``),
1 a rule fails (or, with ``--strict``, is inconclusive), 2 bad input or usage,
3 an internal error (a bug: please report it).
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from audit.errors import AuditError, DataError, ReasonCode, UsageError
from audit.metrics import EXTRA_METRICS, METRICS
from audit.wording import number, people, visible

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
COLOUR = {"pass": "green", "fail": "bold red", "inconclusive": "yellow"}


class _VerbatimConsole(Console):
    """A console that prints text as written: never rich markup (``[/b]``), emoji codes (``:smile:``) or
    highlighting, and every control character or bidirectional control in a printed string shown as an escape
    (:func:`audit.wording.visible`); the line breaks of a string are kept (our messages of several lines).

    Styles come only from :class:`~rich.text.Text` objects built by this module; a value from the data or the
    spec that must stay on one line (a table cell, a name) goes through :func:`_one_line` first.
    """

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(visible(text, newlines=True), **{**options, "markup": False, "emoji": False,
                                                                        "highlight": False})


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160  # logs and CI: wide enough that tables do not wrap
    return _VerbatimConsole(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=True, width=width)


def _one_line(value: Any, style: str = "") -> Text:
    """A value from the data or the spec as one line of plain text: line breaks shown as ``↵``, control
    characters and bidirectional controls as escapes (:func:`audit.wording.visible`)."""
    return Text(visible(value), style=style)


class _Group(click.Group):
    """Turns every toolkit error into a message and exit code 2, and any other error into exit 3."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuditError as error:
            _print_error(error)
            sys.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:  # a bug: no traceback for the user, unless asked for
            if os.environ.get("AUDIT_DEBUG"):
                raise
            _console(stderr=True).print(f"internal error (a bug in the toolkit, please report it): "
                                        f"{type(error).__name__}: {error}. Set AUDIT_DEBUG=1 to see the traceback.")
            sys.exit(EXIT_INTERNAL)


def _print_error(error: AuditError) -> None:
    _console(stderr=True).print("error: " + error_text(error))


def error_text(error: AuditError) -> str:
    """An error's message for the terminal: its header and each of its problems on a line of its own, a line
    break inside one (a value from the data) shown as ``↵`` (:func:`audit.wording.visible`).

    A message that is not a header followed by its problems keeps its own line breaks.
    """
    message = str(error)
    listed = "".join(f"\n  - {p}" for p in error.problems)
    if not error.problems or not message.endswith(listed):
        return visible(message, newlines=True)
    return "\n".join([visible(message[:-len(listed)])] + [f"  - {visible(p)}" for p in error.problems])


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="audit-toolkit", prog_name="audit")
def main() -> None:
    """Audit decisions about people for bias and disparate impact.

    Exit codes: 0 pass, 1 a policy rule fails, 2 bad input or usage, 3 internal error.
    """


def _print_result(result: Any, console: Console, strict: bool) -> None:
    """The verdicts on the console: the family once, one table per rule, what would decide each inconclusive."""
    from audit.outputs import family_sentence
    from audit.wording import decision_sentence

    counts = result.verdict_counts()
    console.print(_one_line(result.spec.system.name, style="bold"))
    console.print(_data_line(result))
    if result.counts is not None:
        console.print(_one_line(decision_sentence(result.counts.decision, result.spec.adverse,
                                                  tiers=result.spec.tiers)))
    views = result.spec.view_names()
    if len(views) > 1:
        console.print(f"views: {', '.join(visible(v) for v in views)}")
    console.print(family_sentence(result.family))
    for index, rule in enumerate(result.spec.policy):
        rows = result.verdicts[result.verdicts["rule_index"] == index].to_dict(orient="records")
        many = len({r["view"] for r in rows}) > 1
        console.print(_rule_table(result, rule.describe(), rows, many))
        for line in _to_decide_lines(rows, many):
            console.print(line)
    for note in result.notes:
        console.print(_one_line(f"note: {note}"))
    console.print(Text.assemble("verdict: ", (result.verdict.upper(), COLOUR[result.verdict]),
                                f" ({counts['fail']} fail, {counts['pass']} pass, {counts['inconclusive']} "
                                f"inconclusive{'; strict: inconclusive counts as fail' if strict else ''})"))


def _data_line(result: Any) -> str:
    """What was read and how, and how much was audited, e.g. ``data: people.csv (CSV, encoding cp1258 detected,
    delimiter ';') — 1,234 of 1,234 rows audited (sha256 0123456789ab…)``."""
    from audit.outputs import data_read_as

    p = result.provenance
    read_as = data_read_as(p.data)
    unit = "people (from a table of counts)" if result.spec.data.count_column else "rows"
    return (f"data: {visible(p.data.source)} ({read_as}) — {p.rows_used:,} of {p.rows_read:,} {unit} audited "
            f"(sha256 {str(p.data.sha256)[:12]}…)")


def _rule_table(result: Any, title: str, rows: list[dict[str, Any]], many: bool) -> Table:
    """One rule's verdicts; every value from the data is plain text (never read as markup)."""
    from audit.outputs import interval_headers
    from audit.wording import interval, p_value

    ordinary, family = interval_headers(result)
    table = Table(title=_one_line(f"rule: {title}"), title_justify="left", show_lines=False)
    numeric = {"estimate", ordinary, family, "n", "p (family)"}
    for column in (("view",) if many else ()) + ("attribute", "group", "reference", "estimate", ordinary, family, "n",
                                                 "p (family)", "verdict"):
        table.add_column(Text(column), justify="right" if column in numeric else "left")
    for r in rows:
        cells = [*((r["view"],) if many else ()), r["attribute"], r["group"], r["reference"], number(r["estimate"]),
                 interval(r["ci_low"], r["ci_high"]).replace(" to ", "–"),
                 interval(r["family_ci_low"], r["family_ci_high"]).replace(" to ", "–"), people(r["n"]),
                 p_value(r["p_family"])]
        table.add_row(*(_one_line(c) for c in cells), _one_line(r["verdict"], style=COLOUR.get(r["verdict"], "")))
    return table


def _to_decide_lines(rows: list[dict[str, Any]], many: bool) -> list[str]:
    """``  attribute = group: to decide: ...`` for every inconclusive verdict about which something can be said."""
    from audit.wording import to_decide

    lines = []
    for r in rows:
        sentence = to_decide(r) if r["verdict"] == "inconclusive" else ""
        if sentence:
            view = f"{visible(r['view'])} | " if many else ""
            lines.append(f"  {view}{visible(r['attribute'])} = {visible(r['group'])}: to decide: {sentence}")
    return lines


_COMMIT_KEY = click.option(
    "--commit-key", "commit_key", type=click.Path(dir_okay=False, path_type=Path),
    help="Commitment key (see 'audit keygen --commitment'): the public manifest then carries a keyed hash of "
         "result.json that only the key's holder can check. Keep the key secret and outside --out.")

_TRUST_MODEL = click.option(
    "--trust-model", is_flag=True,
    help="Load the spec's model even if it is a pickle or joblib file, or a skops file naming types outside the "
         "trusted set. Such files run code when loaded: use only for a file you made or fully trust.")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for result.json, summary.md and junit.xml.")
@click.option("--strict", is_flag=True, help="Count inconclusive verdicts as failures (exit 1).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict line.")
@click.option("--report", "with_report", is_flag=True,
              help="Also write the manifest and the public release in OUT/public: the oversight report (report.html, "
                   "report.pdf), the public outputs and their own manifest.")
@click.option("--lang", type=click.Choice(["en", "vi"]), help="Language of the report (default: the spec's).")
@click.option("--sign", "sign_key", type=click.Path(dir_okay=False, path_type=Path),
              help="Ed25519 private key (PEM) to sign both manifests with (see 'audit keygen').")
@click.option("--engine", type=click.Choice(["auto", "spark"]), default="auto", show_default=True,
              help="Where to count: auto (DuckDB for files, the database for data.url) or spark (data.path read "
                   "and counted by Spark).")
@click.option("--master", help="Spark master URL for --engine spark (local[2], spark://host:7077, yarn).")
@click.option("--progress/--no-progress", "show_progress", default=None,
              help="Show the progress of long scans on stderr (default: when stderr is a terminal).")
@_COMMIT_KEY
@_TRUST_MODEL
def run(spec: Path, out_dir: Path | None, strict: bool, quiet: bool, with_report: bool, lang: str | None,
        sign_key: Path | None, engine: str, master: str | None, show_progress: bool | None,
        commit_key: Path | None, trust_model: bool) -> None:
    """Run the audit described by SPEC and print its verdicts."""
    from audit.engine import run as run_audit
    from audit.outputs import write_outputs
    from audit.progress_bar import ProgressDisplay
    from audit.sources import EngineOptions

    with_report = with_report or sign_key is not None or commit_key is not None
    if with_report and out_dir is None:
        raise UsageError("--report, --sign and --commit-key need --out: the folder to write the report into",
                         reason=ReasonCode.OPTION_INVALID)
    if master and engine != "spark":
        raise UsageError("--master is Spark's master URL; use it with --engine spark",
                         reason=ReasonCode.OPTION_INVALID)
    errors = _console(stderr=True)
    if show_progress is None:
        show_progress = errors.is_terminal and not quiet
    display = ProgressDisplay(errors) if show_progress else None
    options = EngineOptions(engine="spark" if engine == "spark" else "auto", master=master, progress=display)
    if display is None:
        result = run_audit(spec, options=options, trust_model=trust_model)
    else:
        with display:
            result = run_audit(spec, options=options, trust_model=trust_model)
    console = _console()
    if quiet:
        console.print(f"{visible(result.spec.system.name)}: {result.verdict.upper()}")
    else:
        _print_result(result, console, strict)
    if out_dir is not None and with_report:
        _write_report(result, out_dir, lang=lang, sign_key=sign_key, commit_key=commit_key, strict=strict,
                      console=console)
    elif out_dir is not None:
        paths = write_outputs(result, out_dir, strict=strict)
        console.print("wrote " + ", ".join(str(p) for p in paths.values()))
    sys.exit(result.exit_code(strict=strict))


def _write_report(result: Any, out_dir: Path, *, lang: str | None, sign_key: Path | None,
                  commit_key: Path | None, strict: bool, console: Console) -> None:
    from audit.evidence import PUBLIC_DIR
    from audit.report.writer import write_report

    files = write_report(result, out_dir, lang=lang, sign_key=sign_key, strict=strict, commit_key=commit_key)
    public = out_dir / PUBLIC_DIR
    console.print(f"wrote {len(files.paths)} files to {out_dir}: " + ", ".join(sorted(files.paths)))
    console.print(f"report: {public / 'report.html'} and {public / 'report.pdf'} (HTML {files.html_seconds:.1f} s, "
                  f"PDF {files.pdf_seconds:.1f} s)")
    console.print(f"publish {public} as it is (its manifest covers only the published files); keep the rest of "
                  f"{out_dir} internal. Check both later with: audit verify {out_dir}")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the report, the results and the manifest.")
@click.option("--lang", type=click.Choice(["en", "vi"]), help="Language of the report (default: the spec's).")
@click.option("--sign", "sign_key", type=click.Path(dir_okay=False, path_type=Path),
              help="Ed25519 private key (PEM) to sign both manifests with (see 'audit keygen').")
@_COMMIT_KEY
@_TRUST_MODEL
def report(spec: Path, out_dir: Path, lang: str | None, sign_key: Path | None, commit_key: Path | None,
           trust_model: bool) -> None:
    """Audit SPEC and write its evidence into --out and the oversight report (HTML and PDF) with the public
    outputs into --out/public.

    Exits 0 whatever the verdict (the report states it); 2 on bad input.
    """
    from audit.engine import run as run_audit

    result = run_audit(spec, trust_model=trust_model)
    console = _console()
    console.print(f"{visible(result.spec.system.name)}: {result.verdict.upper()}")
    _write_report(result, out_dir, lang=lang, sign_key=sign_key, commit_key=commit_key, strict=False,
                  console=console)


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", "public_key", type=click.Path(dir_okay=False, path_type=Path),
              help="Ed25519 public key (PEM) to check the manifests' signatures with.")
@click.option("--commit-key", "commit_key", type=click.Path(dir_okay=False, path_type=Path),
              help="Commitment key the report was made with: check the public manifest's result_commitment "
                   "against result.json.")
@click.option("--result", "result_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The internal result.json to check the commitment against (default: FOLDER/result.json).")
def verify(folder: Path, public_key: Path | None, commit_key: Path | None, result_path: Path | None) -> None:
    """Check every file in FOLDER against its manifest, and FOLDER/public against its own (and signatures).

    Exit 0 when everything matches, 1 when a file, a signature or the commitment does not, 2 when a
    manifest or key cannot be read.
    """
    from audit.evidence import format_report, verify as verify_folder

    outcome = verify_folder(folder, public_key, commit_key_path=commit_key, result_path=result_path)
    _console().print(format_report(outcome))
    sys.exit(EXIT_OK if outcome.ok else EXIT_FAIL)


@main.command()
@click.option("--private", "private_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the private key (keep it secret).")
@click.option("--public", "public_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the public key (give it to whoever checks the reports).")
@click.option("--commitment", "commitment_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write a random commitment key for --commit-key (keep it secret; use one per report).")
def keygen(private_path: Path | None, public_path: Path | None, commitment_path: Path | None) -> None:
    """Make an Ed25519 key pair for signing report manifests (--private, --public), or a commitment key."""
    from audit.evidence import generate_commitment_key, generate_keypair

    if (private_path is None) != (public_path is None) or (private_path is None and commitment_path is None):
        raise UsageError("give --private and --public (a key pair to sign manifests), or --commitment (a key for "
                         "--commit-key), or all three", reason=ReasonCode.OPTION_INVALID)
    if private_path is not None and public_path is not None:
        generate_keypair(private_path, public_path)
        _console().print(f"wrote {private_path} (private: keep it secret) and {public_path} (public)")
    if commitment_path is not None:
        generate_commitment_key(commitment_path)
        _console().print(f"wrote {commitment_path} (commitment key: keep it secret; hand it over only to whoever "
                         f"checks the commitment, with result.json)")


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Port to serve the app on.")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default serves this machine only.")
@click.option("--max-upload-mb", type=click.IntRange(1, 100_000), default=200, show_default=True,
              help="Largest file an auditor may upload, in MB.")
@click.option("--registry", type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file of the audit history (default: ~/.local/share/audit-toolkit/registry.sqlite).")
@click.option("--secrets", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TOML file with the login settings (OIDC [auth], or [audit_app.passwords]).")
def app(port: int, address: str, max_upload_mb: int, registry: Path | None, secrets: Path | None) -> None:
    """Start the auditors' app (Streamlit) on http://localhost:PORT; stop it with Ctrl+C."""
    from audit_app.server import serve

    _console().print(f"starting the audit app on http://localhost:{port} (this machine only unless --address "
                     f"says otherwise); stop it with Ctrl+C")
    serve(port=port, address=address, max_upload_mb=max_upload_mb, registry=registry, secrets=secrets)


@main.command("hash-password")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The password (asked for when not given).")
def hash_password_command(password: str) -> None:
    """Print a salted hash of a password, for the app's [audit_app.passwords] secrets."""
    from audit.passwords import hash_password

    click.echo(hash_password(password))


@main.command()
def frameworks() -> None:
    """List the framework profiles and the checklist item ids a spec can answer in report.answers."""
    from audit.report.frameworks import PROFILES

    console = _console()
    for profile in PROFILES.values():
        console.print(f"{profile.key}: {profile.title}")
        for item in profile.items:
            who = "filled by the audit" if item.source == "audit" else "answer in report.answers"
            console.print(f"  {item.id}  ({who}) {item.text}")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@_TRUST_MODEL
def validate(spec: Path, trust_model: bool) -> None:
    """Check SPEC and the columns of its data file or database table; list every problem at once.

    With a model, also load it (safely, as 'audit run' does) and check its features are in the data; a
    decision or score column the data lacks is one the model fills.
    """
    import duckdb

    from audit.counts import check_columns
    from audit.outputs import data_read_as
    from audit.readers import open_table
    from audit.sources import _fields, plan_for, read_options
    from audit.spec import load_spec, spec_warnings

    loaded, base = load_spec(spec)
    _refuse_placeholders(loaded, spec)
    console = _console()
    for warning in spec_warnings(loaded):
        console.print(f"note: {visible(warning)}")
    if loaded.data.path:
        path = Path(loaded.data.path)
        path = path if path.is_absolute() else base / path
        relation, info = open_table(path, duckdb.connect(), options=read_options(loaded))
        columns = list(relation.columns)
        if loaded.model is not None:
            columns += [c for c in [loaded.decision_column] if c and c not in columns]   # the model fills it
            _validate_model(loaded, base, columns, trust=trust_model, console=console)
        check_columns(columns, plan_for(loaded), source=f"'{loaded.data.path}'", fields=_fields(loaded))
        read_as = data_read_as(info)
        console.print(f"data: {visible(loaded.data.path)} ({read_as}; all {len(plan_for(loaded).columns)} columns "
                      f"named in the spec are present)")
    elif loaded.data.url:
        from audit.backends import PostgresTable

        table = PostgresTable(loaded.data.url, table=loaded.data.table, query=loaded.data.query)
        try:
            check_columns(table.columns, plan_for(loaded), source=table.description, fields=_fields(loaded))
        finally:
            table.close()
        console.print(f"data: {visible(table.description)} (PostgreSQL; all {len(plan_for(loaded).columns)} "
                      f"columns named in the spec are present)")
    console.print(f"{visible(spec)}: valid spec for '{visible(loaded.system.name)}' — {len(loaded.protected)} "
                  f"protected attribute(s), {len(loaded.intersections)} intersection(s), {len(loaded.policy)} policy "
                  f"rule(s)")


def _refuse_placeholders(spec: Any, path: Path) -> None:
    """Raise SpecError when the spec still holds a placeholder written by ``audit init`` (one of
    :data:`audit.starter.PLACEHOLDERS`, which start with ``CHECK:``), naming each one and what to write instead."""
    from audit.errors import SpecError, format_problems
    from audit.spec import spec_to_dict
    from audit.starter import placeholder_problems

    problems = placeholder_problems(spec_to_dict(spec))
    if problems:
        values = f"{len(problems)} value{'s' if len(problems) != 1 else ''}"
        raise SpecError(format_problems(f"spec file '{path}': {values} still to fill in (placeholders written by "
                                        f"audit init)", problems), reason=ReasonCode.SPEC_INVALID, problems=problems)


def _validate_model(spec: Any, base: Path, columns: list[str], *, trust: bool, console: Console) -> None:
    """Load the spec's model as 'audit run' would, and check that the data has every feature it takes."""
    from audit.models import load_model

    model = load_model(spec.model, base, trust=trust)
    model.require_features(columns)
    console.print(f"model: {model.path.name} ({model.format}, sha256 {model.sha256[:12]}…; loads, and its "
                  f"{len(model.features)} features are in the data)")


@main.command()
@click.argument("data", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the spec (default: audit.yaml beside the data).")
@click.option("--force", is_flag=True, help="Overwrite an existing spec file.")
def init(data: Path, out_path: Path | None, force: bool) -> None:
    """Inspect DATA and write a starter spec with the columns, likely groups and labels."""
    import duckdb
    import yaml

    from audit.outputs import data_read_as
    from audit.readers import open_table
    from audit.starter import placeholder_problems, starter_spec

    out_path = out_path or data.parent / "audit.yaml"
    if out_path.exists() and not force:
        raise DataError(f"'{out_path}' already exists; choose another --out or pass --force to overwrite it",
                        reason=ReasonCode.DATA_UNREADABLE)
    relation, info = open_table(data, duckdb.connect())
    text = starter_spec(data, relation, spec_dir=out_path.parent)
    out_path.write_text(text, encoding="utf-8")
    console = _console()
    console.print(f"read {visible(data)} ({data_read_as(info)})")
    to_fill = placeholder_problems(yaml.safe_load(text))
    filled = " and replace every value that starts with 'CHECK:'" if to_fill else ""
    console.print(f"wrote {visible(out_path)}; check the lines marked CHECK{filled}, then run: audit validate "
                  f"{visible(out_path)}")


@main.command()
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON Schema here instead of printing it.")
def schema(out_path: Path | None) -> None:
    """Print the JSON Schema of the spec (for editors' completion and checking)."""
    from audit.spec import spec_json_schema

    text = json.dumps(spec_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out_path:
        out_path.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command()
def metrics() -> None:
    """List the metrics: formula, direction and when each is undefined."""
    table = Table("name", "full name", "formula", "worse when (favourable / adverse decision)", "undefined when")
    for m in METRICS.values():
        worse = f"{m.worse_when(adverse=False) or '-'} / {m.worse_when(adverse=True) or '-'}"
        table.add_row(m.name, m.full_name, m.formula, worse, m.undefined_when)
    console = _console()
    console.print(table)
    extra = Table("name", "full name", "definition", "needs", title="beyond yes/no (scores, tiers, overrides, "
                  "amounts, selective labels)", title_justify="left")
    for e in EXTRA_METRICS.values():
        name = {"tiers": f"{e.name}:TIER", "amount": f"{e.name}:COLUMN"}.get(e.needs, e.name)
        extra.add_row("qNN:COLUMN" if e.name == "quantile" else name, e.full_name, e.definition, e.needs)
    console.print(extra)


@main.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--confidence", type=float, default=0.95, show_default=True,
              help="Confidence of the intervals of the changes; a change is significant below 1 - confidence.")
@click.option("--correction", type=click.Choice(["holm", "bh", "none"]), default="holm", show_default=True,
              help="Adjustment of the p-values of the changes.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every changed rate, disparity and verdict to this JSON file.")
def diff(old: Path, new: Path, confidence: float, correction: str, json_path: Path | None) -> None:
    """Compare two results of one system (result.json files or 'audit run --out' folders); exit 1 on a regression.

    A regression is a verdict that got worse: pass to fail, pass to inconclusive, inconclusive to fail.
    """
    from audit.changes import compare_results, read_result_file
    from audit.result import table_records
    from audit.wording import p_value

    changes = compare_results(read_result_file(old), read_result_file(new), confidence=confidence,
                              correction=correction)
    console = _console()
    summary = changes.summary()
    moved = changes.disparities[changes.disparities["moved_beyond_intervals"].fillna(False).astype(bool)
                                | changes.disparities["significant"].fillna(False).astype(bool)]
    console.print(f"verdicts: {summary.verdicts_regressed} regressed, {summary.verdicts_improved} improved, "
                  f"{summary.verdicts_same} the same, {summary.verdicts_new} new, {summary.verdicts_gone} gone")
    changed = changes.verdicts[changes.verdicts["change"].isin(["regressed", "improved"])]
    for r in changed.to_dict(orient="records"):
        colour = "bold red" if r["change"] == "regressed" else "green"
        cause = _because(r.get("cause"))
        console.print(Text.assemble("  ", (str(r["change"]), colour),
                                    f": {_where(r['rule'], r['view'], r['attribute'])} = {visible(r['group'])}: "
                                    f"{r['old_verdict']} -> {r['new_verdict']}{' ' + cause if cause else ''}"))
    console.print(f"disparities: {summary.disparities_significant} changed significantly, "
                  f"{summary.disparities_moved} moved beyond both intervals (of {summary.disparities})")
    for r in moved.to_dict(orient="records"):
        console.print(f"  {_where(r['view'], r['metric'], r['attribute'])} = {visible(r['group'])} vs "
                      f"{visible(r['new_reference'])}: ratio {number(r['old_ratio'])} -> {number(r['new_ratio'])} "
                      f"(adj. p {p_value(r['p_adjusted'])})")
    console.print(f"rates: {summary.rates_significant} of {summary.rates} changed significantly "
                  f"({summary.rates_undefined} undefined on a side)")
    for note in changes.notes:
        console.print(_one_line(f"note: {note}"))
    if json_path is not None:
        body = {"regression": changes.regression, "confidence": changes.confidence,
                "correction": changes.correction, "notes": list(changes.notes),
                "verdicts": table_records(changes.verdicts), "disparities": table_records(changes.disparities),
                "rates": table_records(changes.rates)}
        json_path.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        console.print(f"wrote {json_path}")
    console.print(Text("REGRESSION", style="bold red") if changes.regression else Text("no regression", style="green"))
    sys.exit(EXIT_FAIL if changes.regression else EXIT_OK)


def _where(*parts: Any) -> str:
    """``rule | view | attribute``: values from the results, each on one line (:func:`audit.wording.visible`)."""
    return " | ".join(visible(part) for part in parts)


def _because(cause: Any) -> str:
    """``(because the method changed)`` from a verdict change's ``cause`` (``method``, ``data and method``, ...);
    empty when the cause is missing or empty (results compared before causes were recorded)."""
    if not isinstance(cause, str) or not cause.strip():
        return ""
    parts = [f"the {part.strip()}" for part in cause.split(" and ") if part.strip()]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"(because {listed} changed)"


@main.command()
@click.option("--base-rate", type=float, required=True,
              help="The reference group's rate (of the decision, or of the outcome metric) expected in the sample, "
                   "strictly between 0 and 1; e.g. 0.3.")
@click.option("--ratio", type=float,
              help="The disparity to detect: the group's rate divided by the reference's, not 1 (0.8 for the "
                   "four-fifths rule, or 1.25). Answers: how many people.")
@click.option("--n", "n_per_group", type=int,
              help="Instead of --ratio: people per group (the group and its reference each). Answers: which ratios "
                   "this sample detects.")
@click.option("--n-total", type=int,
              help="Instead of --ratio, with the groups' shares: people in the whole sample. Answers: which ratios "
                   "each group's part of it detects.")
@click.option("--power", type=float, default=0.8, show_default=True,
              help="Probability of detecting the disparity, strictly between 0 and 1.")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="Family-wise error rate of the audit (the spec's statistics.alpha), strictly between 0 and 1.")
@click.option("--comparisons", type=int,
              help="M, the verdicts the audit will make (rules × groups compared × views, intersections included); "
                   "each test is at alpha / M. Default 1, or with shares the groups compared with the reference.")
@click.option("--share", "shares", multiple=True, metavar="GROUP=FRACTION",
              help="A group's share of the population (repeat for every group; shares are scaled to sum to 1), "
                   "e.g. --share female=0.48 --share male=0.52.")
@click.option("--shares-from", type=click.Path(dir_okay=False, path_type=Path),
              help="A data file (CSV, Parquet or Excel) whose --attribute column gives the groups' shares: its rows "
                   "are counted per value, values as written; rows with no value are left out.")
@click.option("--attribute", help="With --shares-from: the column whose values are the groups.")
@click.option("--reference", help="The reference group among the shares (default: the largest).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the plan to this JSON file (n_per_group, n_total, groups, level, ...).")
def plan(base_rate: float, ratio: float | None, n_per_group: int | None, n_total: int | None, power: float,
         alpha: float, comparisons: int | None, shares: tuple[str, ...], shares_from: Path | None,
         attribute: str | None, reference: str | None, json_path: Path | None) -> None:
    """Plan a random evaluation sample before the data are collected.

    With --ratio: how many people per group (and, given the groups' shares, in total) a sample needs to detect
    that ratio with the given power at the family's level alpha / M. With --n or --n-total instead: the ratios a
    sample of that size detects. Exit 0 with the answer, 2 on a bad value.
    """
    from audit.planning import detectable, plan_sample

    if ratio is not None and (n_per_group is not None or n_total is not None):
        raise UsageError("give --ratio (to get the sample size) or --n / --n-total (to get the detectable ratios), "
                         "not both", reason=ReasonCode.OPTION_INVALID)
    if ratio is None and n_per_group is None and n_total is None:
        raise UsageError("give --ratio (the disparity to detect, e.g. 0.8) for the sample size, or --n (people per "
                         "group) or --n-total (with shares) for the detectable ratios",
                         reason=ReasonCode.OPTION_INVALID)
    population = _plan_shares(shares, shares_from, attribute)
    if n_per_group is not None and population is not None:
        raise UsageError("--n is people per group; with the groups' shares give --n-total (people in the whole "
                         "sample)", reason=ReasonCode.OPTION_INVALID)
    found = population.shares if population is not None else None
    if ratio is not None:
        answer = plan_sample(base_rate, ratio, power=power, alpha=alpha, comparisons=comparisons, shares=found,
                             reference=reference)
    else:
        answer = detectable(base_rate, n_per_group=n_per_group, n_total=n_total, power=power, alpha=alpha,
                            comparisons=comparisons, shares=found, reference=reference)
    console = _console()
    _print_plan(answer, console, comparisons_given=comparisons is not None, population=population)
    if json_path is not None:
        json_path.write_text(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"wrote {json_path}")


@dataclass(frozen=True)
class _Population:
    """The groups' shares for ``audit plan``, and where they came from."""

    shares: dict[str, float]
    source: str
    rows: int | None = None
    missing: int | None = None


def _plan_shares(shares: tuple[str, ...], shares_from: Path | None, attribute: str | None) -> _Population | None:
    """The shares given by --share, or counted in --shares-from's --attribute column; None without either."""
    if shares and shares_from is not None:
        raise UsageError("give the shares by --share or by --shares-from, not both", reason=ReasonCode.OPTION_INVALID)
    if attribute is not None and shares_from is None:
        raise UsageError("--attribute names a column of --shares-from; give the data file too",
                         reason=ReasonCode.OPTION_INVALID)
    if shares_from is not None:
        return _shares_from_file(shares_from, attribute)
    if not shares:
        return None
    return _Population(_parse_shares(shares), "--share")


def _parse_shares(shares: tuple[str, ...]) -> dict[str, float]:
    """``GROUP=FRACTION`` options as a mapping; the group is everything before the last ``=``, as written."""
    parsed: dict[str, float] = {}
    for text in shares:
        group, equals, fraction = text.rpartition("=")
        if not equals or not group:
            raise UsageError(f"--share must be GROUP=FRACTION, e.g. --share female=0.48; got {text!r}",
                             reason=ReasonCode.OPTION_INVALID)
        try:
            value = float(fraction)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise UsageError(f"--share {text!r}: the share must be a positive number, e.g. 0.48 (or a count of "
                             f"people); got {fraction!r}", reason=ReasonCode.OPTION_INVALID)
        if group in parsed:
            raise UsageError(f"--share gives group {group!r} twice; give each group once",
                             reason=ReasonCode.OPTION_INVALID)
        parsed[group] = value
    if len(parsed) < 2:
        raise UsageError(f"--share: give every group's share, at least two groups (a group and its reference); got "
                         f"{len(parsed)}", reason=ReasonCode.OPTION_INVALID)
    return parsed


def _shares_from_file(path: Path, attribute: str | None) -> _Population:
    """The groups' people in ``path``'s ``attribute`` column (see :func:`audit.planning.shares_from_file`)."""
    from audit.planning import shares_from_file

    if attribute is None:
        raise UsageError("--shares-from needs --attribute: the column whose values are the groups",
                         reason=ReasonCode.OPTION_INVALID)
    counted = shares_from_file(path, attribute)
    return _Population({g: float(n) for g, n in counted.people.items()}, f"{path}, column {attribute!r}",
                       rows=sum(counted.people.values()), missing=counted.missing)


def _ratio_text(value: float | None, side: str) -> str:
    """``0.8 or lower``; for a side no rate in [0, 1] reaches, says so (never a number)."""
    return f"{number(value)} or {side}" if value is not None else f"none {side} (no rate in [0, 1] is far enough)"


def _print_plan(answer: Any, console: Console, *, comparisons_given: bool, population: _Population | None) -> None:
    """A plan in words: what is asked, the level alpha / M and what M is, the people, and the detectable ratios."""
    power = f"{answer.power * 100:g}%"
    if answer.ratio is not None:
        console.print(f"plan: detect a group rate of {number(answer.ratio * answer.base_rate)} against the "
                      f"reference's {number(answer.base_rate)} (ratio {number(answer.ratio)}) with {power} power")
    else:
        console.print(f"plan: the ratios a random sample detects against a reference rate of "
                      f"{number(answer.base_rate)}, with {power} power")
    what_m_is = _what_m_is(answer.comparisons, comparisons_given, population is not None)
    console.print(f"level of each test: alpha / M = {answer.alpha:g} / {answer.comparisons:,} = {answer.level:.3g} "
                  f"({what_m_is})")
    if population is not None:
        counted = (f"; {population.rows:,} rows counted, {population.missing:,} with no value left out"
                   if population.rows is not None else "")
        console.print(f"groups: {len(population.shares)} from {visible(population.source)}{counted}")
    if answer.n_per_group is not None:
        console.print(f"people per group: {answer.n_per_group:,} in the group and {answer.n_per_group:,} in its "
                      f"reference, drawn at random{' (two groups of equal size)' if answer.groups else ''}")
        lower, higher = _ratio_text(answer.detectable_lower, "lower"), _ratio_text(answer.detectable_higher, "higher")
        console.print(f"with {answer.n_per_group:,} people per group the detectable ratios are {lower}, and {higher}")
    if answer.groups:
        reference = next(g.group for g in answer.groups if g.reference)
        console.print(f"total: {answer.n_total:,} people drawn at random, each group at its share; every group is "
                      f"compared with the reference '{visible(reference)}'")
        console.print(_plan_table(answer.groups))


def _what_m_is(comparisons: int, given: bool, with_shares: bool) -> str:
    """What M, the divisor of alpha, counts: as given, or the default (1, or the groups compared)."""
    if given:
        return f"M = {comparisons:,} from --comparisons: the verdicts the audit will make"
    if with_shares:
        return (f"M = {comparisons:,}: the {'group' if comparisons == 1 else f'{comparisons:,} groups'} compared with "
                f"the reference, for one rule; for a whole audit give --comparisons, its verdicts: rules × groups "
                f"compared × views")
    return ("M = 1: one comparison; for a whole audit give --comparisons, its verdicts: rules × groups compared × "
            "views")


def _plan_table(groups: Any) -> Table:
    """Each group of a plan with shares: share, people, and the ratios its part of the sample detects."""
    table = Table()
    for index, header in enumerate(("group", "share", "people", "detectable ratio, lower", "detectable ratio, higher")):
        table.add_column(header, justify="left" if index == 0 else "right")
    for g in groups:
        lower, higher = (("reference", "") if g.reference else
                         (number(g.detectable_lower) if g.detectable_lower is not None else "none",
                          number(g.detectable_higher) if g.detectable_higher is not None else "none"))
        table.add_row(_one_line(g.group), Text(f"{g.share:.1%}"), Text(people(g.people)), Text(lower), Text(higher))
    return table


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for alternatives.json, .csv, .svg and .md (the audit's --out folder puts them in its "
                   "report).")
@click.option("--attribute", help="Protected column whose groups the constraints equalise (default: the first).")
@click.option("--constraint", "constraints", multiple=True,
              type=click.Choice(["demographic_parity", "equalized_odds", "true_positive_rate_parity"]),
              help="Constraint to try (repeat for several; default all three).")
@click.option("--bound", "bounds", multiple=True, type=click.FloatRange(0, 1, min_open=True),
              help="difference_bound of a re-trained alternative (repeat; default 0.01 0.02 0.05 0.1).")
@click.option("--holdout", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.5,
              show_default=True, help="Share of the rows kept aside to judge every alternative.")
@click.option("--utility", default="balanced_accuracy", show_default=True,
              type=click.Choice(["accuracy", "balanced_accuracy", "f1", "fnr", "fpr", "npv", "ppv", "selection_rate",
                                 "tnr", "tpr"]),
              help="The agency's utility metric reported beside accuracy (e.g. tpr: the share of true cases caught).")
@click.option("--metric", type=click.Choice(["fpr", "fnr", "selection_rate"]), default="fpr", show_default=True,
              help="Disparity drawn on the chart's axis.")
@click.option("--max-fit-rows", type=click.IntRange(100), default=100_000, show_default=True,
              help="Rows (a seeded sample of the fitting part) the thresholds are fitted on.")
@_TRUST_MODEL
def alternatives(spec: Path, out_dir: Path, attribute: str | None, constraints: tuple[str, ...],
                 bounds: tuple[float, ...], holdout: float, utility: str, metric: str, max_fit_rows: int,
                 trust_model: bool) -> None:
    """Search for less discriminatory alternatives to the spec's model with fairlearn, and write the frontier.

    Post-processing (ThresholdOptimizer) always; re-training (ExponentiatedGradient) when the spec gives
    training data. Exit 0 when written, 2 on bad input.
    """
    from audit.alternatives import CONSTRAINTS, AlternativeOptions, find_alternatives, write_frontier

    defaults = AlternativeOptions()
    options = AlternativeOptions(attribute=attribute, holdout=holdout, bounds=bounds or defaults.bounds,
                                 utility=utility, constraints=constraints or CONSTRAINTS, max_fit_rows=max_fit_rows)
    frontier = find_alternatives(spec, options=options, trust_model=trust_model)
    paths = write_frontier(frontier, out_dir, metric=metric)
    console = _console()
    for m in ("fpr", "fnr", "selection_rate"):
        console.print(_one_line(f"- {frontier.sentence(m)}"))
    console.print("wrote " + ", ".join(str(p) for p in paths.values()))


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("out/demo"),
              show_default=True, help="Folder for the reports (one sub-folder per scenario) and index.html.")
@click.option("--examples", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of scenarios (default: the bundled examples/).")
@click.option("--no-pdf", is_flag=True, help="Skip the PDF reports (faster).")
def demo(out_dir: Path, examples: Path | None, no_pdf: bool) -> None:
    """Audit every bundled scenario and write their reports to one folder with an index page.

    Exit 0 when every scenario was audited (whatever its verdict), 2 when one could not be.
    """
    from audit.demo import run_demo

    console = _console()
    entries = run_demo(out_dir, examples, pdf=not no_pdf)
    for e in entries:
        console.print(Text.assemble(f"{visible(e.name)}: ", (e.verdict.upper(), COLOUR.get(e.verdict, "bold red")),
                                    f" {visible(e.system)}", f" — {visible(e.error)}" if e.error else "",
                                    f" ({visible(e.expected)})" if e.expected else ""))
    console.print(f"index: {out_dir / 'index.html'}")
    sys.exit(EXIT_USAGE if any(e.error for e in entries) else EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()
