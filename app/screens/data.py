"""Data page: upload a CSV, Parquet or Excel file, or open a bundled example; see what was read.

The upload is read in memory only (never written to disk) by the toolkit's
reader, which detects the encoding and delimiter; the page shows the row
count, the columns with their types, and the first rows.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.errors import AuditError
from audit.readers import SUPPORTED_EXTENSIONS, MemoryFile, ReadOptions
from audit.uploads import load_table, preview
from audit_app.actions import load_dataset, open_and_audit
from audit_app.examples import bundled_examples
from audit_app.guard import guarded, show_error
from audit_app.settings import settings
from audit_app.state import visit
from audit_app.text import _, count, plain
from audit_app.workspace import Dataset

DELIMITERS = {"": "detect", ",": ",", ";": ";", "\t": "tab", "|": "|"}


def _read_options() -> ReadOptions | None:
    """The read options the visitor set (all detected by default); None after showing a problem."""
    with st.expander(_("Read options (detected when left empty)")):
        encoding = st.text_input(_("Encoding, e.g. utf-8 or cp1252"), key="data.encoding").strip() or None
        shown = {d: _("detect") if d == "" else name for d, name in DELIMITERS.items()}
        delimiter = st.selectbox(_("Delimiter"), list(DELIMITERS), format_func=shown.__getitem__,
                                 key="data.delimiter") or None
        sheet_text = st.text_input(_("Excel sheet (name or number from 0)"), key="data.sheet").strip()
    sheet: str | int | None = int(sheet_text) if sheet_text.isdigit() else (sheet_text or None)
    try:
        return ReadOptions(encoding=encoding, delimiter=delimiter, sheet=sheet)
    except AuditError as error:
        show_error(error, heading=_("The read options are not valid"))
        return None


def _upload() -> None:
    limit = settings().max_upload_mb
    extensions = sorted({e.lstrip(".") for e in SUPPORTED_EXTENSIONS if e != ".xls"})
    uploaded = st.file_uploader(_("Upload decisions: CSV, Parquet or Excel (at most {mb} MB)").format(mb=limit),
                                type=extensions, key="data.upload")
    options = _read_options()
    if uploaded is None or options is None:
        return
    marker = (uploaded.file_id, options)
    if st.session_state.get("data.loaded_marker") == marker:
        return
    if uploaded.size > limit * 2**20:
        st.error(_("The file is {size} MB, more than the limit of {mb} MB. Upload a smaller extract, or ask the "
                   "administrator to start the app with a larger --max-upload-mb.").format(
                       size=count(uploaded.size // 2**20), mb=limit))
        return
    with st.spinner(_("Reading {name}…").format(name=plain(uploaded.name))):
        loaded = load_table(MemoryFile(uploaded.name, uploaded.getvalue()), options=options)
    load_dataset(Dataset(name=uploaded.name, origin="upload", loaded=loaded))
    st.session_state["data.loaded_marker"] = marker
    st.success(_("Read {rows} rows and {columns} columns from {name}. Next: choose what to audit on the Set-up "
                 "page.").format(rows=count(loaded.rows), columns=count(len(loaded.columns)), name=plain(uploaded.name)))


def _examples() -> None:
    folder = settings().examples
    examples = bundled_examples(folder) if folder.is_dir() else []
    if not examples:
        st.info(_("No bundled examples were found."))
        return
    by_key = {e.key: e for e in examples}
    chosen = by_key[st.selectbox(_("Bundled example"), list(by_key), format_func=lambda k: by_key[k].title,
                                 key="data.example")]
    if chosen.purpose:
        st.caption(chosen.purpose)
    if st.button(_("Open and audit this example"), key="data.open_example"):
        with st.spinner(_("Auditing {name}…").format(name=chosen.title)):
            open_and_audit(chosen)
        st.switch_page("screens/results.py")


def _describe() -> None:
    state = visit()
    dataset = state.workspace.dataset
    if dataset is None:
        st.info(_("No data yet: upload a file or open an example."))
        return
    if dataset.loaded is None:
        st.info(_("This audit was reopened from the history: its counts are here, its rows are not (they were "
                  "never stored). Upload the data again to change the set-up."))
        return
    loaded = dataset.loaded
    info = loaded.info
    origin = {"upload": _("your upload"), "example": _("bundled example"), "registry": _("history")}[dataset.origin]
    st.subheader(plain(dataset.name))
    cols = st.columns(4)
    cols[0].metric(_("Rows"), count(loaded.rows))
    cols[1].metric(_("Columns"), count(len(loaded.columns)))
    cols[2].metric(_("Format"), info.format.upper())
    cols[3].metric(_("Size"), f"{info.size_bytes / 2**20:.1f} MB")
    facts = [_("Source: {origin}").format(origin=origin)]
    if info.encoding:
        facts.append(_("Encoding: {encoding} ({how})").format(
            encoding=info.encoding, how=_("detected") if info.encoding_detected else _("as set")))
    if info.delimiter:
        facts.append(_("Delimiter: {delimiter}").format(delimiter=DELIMITERS.get(info.delimiter, info.delimiter)))
    facts.append(_("SHA-256: {sha}").format(sha=info.sha256))
    st.caption(" · ".join(facts))
    st.markdown("**" + _("Columns") + "**")
    columns = pd.DataFrame([{
        _("Column"): p.name, _("Type"): p.type, _("Distinct values"): p.distinct, _("Missing"): p.missing,
        _("Most frequent values"): ", ".join(f"{v} ({n:,})" for v, n in p.top[:5])} for p in state.profiles])
    st.dataframe(columns, hide_index=True, width="stretch")
    st.markdown("**" + _("First rows") + "**")
    st.dataframe(preview(loaded, rows=100), hide_index=True, width="stretch")
    st.caption(_("Your data stays in this browser session's memory on this machine: it is never written to "
                 "disk, and the history keeps only counts and results."))


st.title(_("Data"))
with guarded(_("The file could not be read")):
    upload_tab, example_tab = st.tabs([_("Upload a file"), _("Bundled examples")])
    with upload_tab:
        _upload()
    with example_tab:
        _examples()
with guarded():
    _describe()
