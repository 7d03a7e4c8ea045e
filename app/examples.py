"""The bundled examples the app offers: each folder of ``examples/`` with a ``spec.yaml``.

An example is opened like an upload: its data file is read into memory by the
same reader, and its spec fills the Set-up page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from audit.sources import read_options
from audit.spec import AuditSpec, load_spec
from audit.uploads import load_table
from audit_app.workspace import Dataset

OPENING_EXAMPLE = "welfare_scores"
"""The example a first-time visitor sees audited (a risk score with a slider)."""


@dataclass(frozen=True)
class Example:
    """A bundled example: its folder name, the system's name and purpose, and its spec file."""

    key: str
    title: str
    purpose: str
    spec_path: Path


def bundled_examples(folder: Path) -> list[Example]:
    """Every example under ``folder`` whose spec names a data file, the opening one first.

    An example that audits a model (``model:`` in its spec) is left out: the app never loads a model.
    """
    found: list[Example] = []
    for spec_path in sorted(folder.glob("*/spec.yaml")):
        spec, _ = load_spec(spec_path)
        if spec.data.path and spec.model is None:
            found.append(Example(key=spec_path.parent.name, title=spec.system.name,
                                 purpose=(spec.system.purpose or "").strip(), spec_path=spec_path))
    return sorted(found, key=lambda e: (e.key != OPENING_EXAMPLE, e.key))


def open_example(example: Example) -> tuple[Dataset, AuditSpec]:
    """The example's data read into memory, and its spec."""
    spec, base = load_spec(example.spec_path)
    path = Path(spec.data.path or "")
    loaded = load_table(path if path.is_absolute() else base / path, options=read_options(spec))
    return Dataset(name=path.name, origin="example", loaded=loaded), spec
