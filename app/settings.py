"""The app's settings: where the history lives, how large an upload may be, where the examples are.

``audit app`` passes them to the Streamlit process in environment variables,
so the app reads them the same way however it was started.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import audit

REGISTRY_ENV = "AUDIT_APP_REGISTRY"
MAX_UPLOAD_ENV = "AUDIT_APP_MAX_UPLOAD_MB"
EXAMPLES_ENV = "AUDIT_APP_EXAMPLES"
DEFAULT_MAX_UPLOAD_MB = 200


def default_registry() -> Path:
    """``$XDG_DATA_HOME/audit-toolkit/registry.sqlite`` (``~/.local/share/...`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "audit-toolkit" / "registry.sqlite"


@dataclass(frozen=True)
class AppSettings:
    """Settings of one app process.

    Attributes
    ----------
    registry : Path
        The SQLite file of the audit history.
    max_upload_mb : int
        Largest upload accepted, in mebibytes (2^20 bytes, as Streamlit counts them).
    examples : Path
        Folder of the bundled examples (``examples/*/spec.yaml``).
    """

    registry: Path
    max_upload_mb: int
    examples: Path


def settings() -> AppSettings:
    """The settings from the environment, with defaults."""
    raw_limit = os.environ.get(MAX_UPLOAD_ENV, "")
    limit = int(raw_limit) if raw_limit.isdigit() and int(raw_limit) > 0 else DEFAULT_MAX_UPLOAD_MB
    examples = os.environ.get(EXAMPLES_ENV) or str(Path(audit.__file__).resolve().parent.parent / "examples")
    return AppSettings(registry=Path(os.environ.get(REGISTRY_ENV) or default_registry()), max_upload_mb=limit,
                       examples=Path(examples))
