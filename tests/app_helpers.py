"""Helpers for the app's tests: start an AppTest of the app with its own history file, find widgets by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from streamlit.testing.v1 import AppTest

from conftest import ROOT

MAIN = ROOT / "app" / "main.py"
WELFARE_CSV = ROOT / "examples" / "welfare_fraud" / "welfare_fraud.csv"


def start(monkeypatch: Any, tmp_path: Path, *, secrets: dict[str, Any] | None = None,
          user: dict[str, Any] | None = None, max_upload_mb: int | None = None, lang: str | None = None) -> AppTest:
    """A fresh visit of the app (history in ``tmp_path``), run once."""
    monkeypatch.setenv("AUDIT_APP_REGISTRY", str(tmp_path / "registry.sqlite"))
    if max_upload_mb is not None:
        monkeypatch.setenv("AUDIT_APP_MAX_UPLOAD_MB", str(max_upload_mb))
    at = AppTest.from_file(str(MAIN), default_timeout=120)
    for name, value in (secrets or {}).items():
        at.secrets[name] = value
    if user is not None:
        at.user = user
    if lang is not None:
        at.session_state["lang"] = lang
    return at.run()


def visit(at: AppTest) -> Any:
    """The visit's state (audit_app.state.Visit)."""
    return at.session_state["visit"]


def language(at: AppTest) -> str:
    """The visit's language, as audit_app.text.lang() reads it."""
    for key in ("lang", "lang.kept"):
        if key in at.session_state and at.session_state[key]:
            return str(at.session_state[key])
    return "en"


def setup_key(at: AppTest, name: str) -> str:
    """The key of a Set-up page widget (keys carry the form's version and the language)."""
    return f"setup.{visit(at).form_version}.{language(at)}.{name}"


def results_key(at: AppTest, name: str) -> str:
    """The key of a Results page widget (keys carry the language)."""
    return f"results.{language(at)}.{name}"


def texts(at: AppTest) -> str:
    """Every text the page shows (titles, markdown, captions, alerts), one per line."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "error", "warning", "info", "success",
                 "toast"):
        parts += [str(element.value) for element in getattr(at, kind)]
    return "\n".join(parts)


def no_exception(at: AppTest) -> None:
    """Fail with the exception's text when the app showed one."""
    assert not at.exception, [e.value for e in at.exception]


def upload(at: AppTest, name: str, data: bytes, key: str = "data.upload") -> AppTest:
    """Upload a file on the current page and rerun."""
    return at.file_uploader(key=key).set_value((name, data, "application/octet-stream")).run()


def errors(at: AppTest) -> list[str]:
    """The error boxes of the page, except the overall verdict's banner (a failed audit is shown in red)."""
    return [e.value for e in at.error if "### " not in e.value]


def table_with(at: AppTest, *labels: str, without: tuple[str, ...] = ()) -> pd.DataFrame:
    """The only table on the page whose columns include every one of ``labels`` and none of ``without``."""
    found = [d.value for d in at.dataframe
             if set(labels) <= set(d.value.columns) and not set(without) & set(d.value.columns)]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def loaded_table(frame: pd.DataFrame, name: str = "frame") -> Any:
    """A pandas frame as the app holds an upload (audit.uploads.LoadedTable)."""
    import pyarrow as pa

    from audit.readers import TableInfo
    from audit.uploads import LoadedTable

    return LoadedTable(name, pa.Table.from_pandas(frame, preserve_index=False),
                       TableInfo(name, "csv", "utf-8", True, ",", "0" * 64, 0))
