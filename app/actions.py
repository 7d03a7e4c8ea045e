"""What the pages do to a visit: load data, replace the set-up, run the audit, open the first example.

Pages call these instead of touching the workspace themselves, so that every
way of getting data (upload, example, history) leaves the visit in the same
shape: data, column profiles, a set-up form, and (when audited) a result.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.engine import Counted
from audit.result import AuditResult
from audit.spec import AuditSpec, spec_to_dict
from audit.starter import ColumnProfile, guess_roles
from audit.uploads import column_profiles
from audit_app.examples import Example, bundled_examples, open_example
from audit_app.settings import settings
from audit_app.setup_form import SetupForm, column_numeric
from audit_app.state import Visit, visit
from audit_app.workspace import Dataset, Workspace


def load_dataset(dataset: Dataset, spec: AuditSpec | None = None) -> None:
    """Make ``dataset`` the visit's data; the set-up comes from ``spec`` or, without one, from guesses."""
    state = visit()
    state.workspace.use(dataset)
    assert dataset.loaded is not None
    _, state.profiles = column_profiles(dataset.loaded)
    numeric = column_numeric(state.profiles)
    if spec is not None:
        state.replace_form(SetupForm.from_spec(spec, numeric_columns=numeric), spec_to_dict(spec))
    else:
        name = dataset.name.rsplit(".", 1)[0].replace("_", " ").replace("-", " ").strip() or dataset.name
        state.replace_form(SetupForm.from_guess(guess_roles(state.profiles), name=name, numeric_columns=numeric),
                           None)
    state.spec, state.result, state.reopened_id, state.saved_id = None, None, None, None


def run_audit(spec: AuditSpec, state: Visit | None = None) -> AuditResult:
    """Audit the visit's data with ``spec`` (counted once per set-up) and keep the result."""
    state = state or visit()
    result = state.workspace.audit(spec)
    state.set_result(spec, result)
    return result


def open_and_audit(example: Example) -> AuditResult:
    """Open a bundled example and audit it with its own spec."""
    dataset, spec = open_example(example)
    load_dataset(dataset, spec)
    return run_audit(spec)


@dataclass(frozen=True)
class OpeningAudit:
    """The opening example, read, counted and audited once per app process (it holds no visitor's data)."""

    example: Example
    dataset: Dataset
    spec: AuditSpec
    counted: Counted
    profiles: tuple[ColumnProfile, ...]
    result: AuditResult


@functools.lru_cache(maxsize=2)
def opening_audit(examples: Path) -> OpeningAudit | None:
    """The audit every first visit opens with; ``audit app`` makes it before the first visitor arrives."""
    found = bundled_examples(examples) if examples.is_dir() else []
    if not found:
        return None
    dataset, spec = open_example(found[0])
    workspace = Workspace()
    workspace.use(dataset)
    result = workspace.audit(spec)
    assert dataset.loaded is not None
    return OpeningAudit(example=found[0], dataset=dataset, spec=spec, counted=workspace.counted[0],
                        profiles=tuple(column_profiles(dataset.loaded)[1]), result=result)


def open_first_example() -> None:
    """On a visit's first run, show the opening example audited, so a finished audit is on screen at once."""
    state = visit()
    if state.started:
        return
    state.started = True
    opening = opening_audit(settings().examples)
    if opening is None:
        return
    state.workspace.use(opening.dataset, opening.counted)
    state.profiles = list(opening.profiles)
    state.replace_form(SetupForm.from_spec(opening.spec, numeric_columns=column_numeric(state.profiles)),
                       spec_to_dict(opening.spec))
    state.set_result(opening.spec, opening.result)


def spec_mapping(state: Visit | None = None) -> dict[str, Any] | None:
    """The spec the Set-up page currently describes, as a mapping (None before any data)."""
    state = state or visit()
    if state.form is None:
        return None
    dataset = state.workspace.dataset
    data_name = dataset.name if dataset is not None and dataset.origin == "upload" else None
    return state.form.apply(state.base_spec, data_name=data_name)
