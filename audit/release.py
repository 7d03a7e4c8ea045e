"""The public release of an audit: one typed object, derived once from the result, that every published file
renders from.

:func:`build_release` runs small-cell suppression once (:func:`audit.suppression.suppress`), then the
disclosure audit (:mod:`audit.disclosure`), which withholds more until no withheld count can be narrowed below
the protection rule by any combination of the published numbers; it then builds a *public result*: an
:class:`~audit.result.AuditResult` whose tables are the suppressed ones, whose notes quote no count below
``k``, whose provenance holds no withheld count (rows read and audited, the model's agreement with the data), no
hash of the unsuppressed tables and neither the hash nor the size of the data file (a small file, such as a table
of counts, could be found by trying the few files consistent with the published numbers), and which has no raw
counts. report.html, report.pdf, public.json,
public.md and the public CSVs are rendered from it (:mod:`audit.public_files`, :mod:`audit.report.writer`);
nothing in a published file comes from the unsuppressed result.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import pandas as pd

from audit.disclosure import DisclosureCheck, enforce
from audit.model_audit import agreement_note
from audit.result import AuditResult
from audit.suppression import PublicTables

__all__ = ["PublicRelease", "build_release"]


@dataclass(frozen=True)
class PublicRelease:
    """Everything an audit publishes, after suppression and the disclosure audit.

    ``result`` is the public result (see the module docstring): its ``result_sha256`` is the SHA-256 of the
    published tables. ``labels`` are the decision and outcome label counts as published; ``withheld`` counts
    the count cells withheld by rule (``primary``: below ``k`` or rule 2; ``secondary``: rules 3 and 4;
    ``disclosure``: added by the disclosure audit); ``check`` says what the disclosure audit checked.
    """

    k: int
    result: AuditResult
    labels: dict[str, Any]
    withheld: dict[str, int]
    check: DisclosureCheck

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every published table by name: groups, comparisons, verdicts, spread, then the others sorted."""
        main = {"groups": self.result.groups, "comparisons": self.result.comparisons,
                "verdicts": self.result.verdicts, "spread": self.result.spread}
        return main | dict(sorted(self.result.tables.items()))

    @property
    def public_sha256(self) -> str:
        """SHA-256 of the verdict and the published tables in canonical JSON."""
        return self.result.result_sha256


def _agreement(model: dict[str, Any], rows: Any, k: int) -> float | None:
    """The model's agreement with the data's decisions as published: None when the rows that agree or those
    that differ (the share times the rows scored) are fewer than ``k``, or when the rows are not known."""
    share = model.get("agreement_with_data")
    if share is None or not isinstance(rows, (int, float)) or isinstance(rows, bool):
        return None
    agree = round(float(share) * rows)
    return None if min(agree, rows - agree) < k else float(share)


def _public_model(result: AuditResult, k: int, notes: list[str]) -> dict[str, Any] | None:
    """The model's provenance as published, with ``notes`` updated when its agreement share is withheld."""
    model = result.provenance.model
    if model is None or "agreement_with_data" not in model:
        return model
    rows = model.get("agreement_rows", result.provenance.rows_read)
    share = _agreement(model, rows, k)
    public = {key: value for key, value in model.items() if key not in ("agreement_with_data", "agreement_rows")}
    if share is not None:
        return public | {"agreement_with_data": share}
    column = result.spec.decision_column or ""
    written = agreement_note(column, model["agreement_with_data"])
    notes[:] = [agreement_note(column, None) if note == written else note for note in notes]
    return public


def _public_result(result: AuditResult, public: PublicTables) -> AuditResult:
    notes = list(public.notes)
    model = _public_model(result, public.k, notes)
    data = dataclasses.replace(result.provenance.data, sha256=None, size_bytes=None)  # guessable for a small file
    provenance = dataclasses.replace(result.provenance, rows_read=public.rows_read,  # type: ignore[arg-type]
                                     rows_used=public.rows_used, model=model, data=data)
    return AuditResult(spec=result.spec, verdict=result.verdict, groups=public.groups, comparisons=public.comparisons,
                       verdicts=public.verdicts, spread=public.spread, notes=tuple(notes), provenance=provenance,
                       counts=None, tables=dict(public.tables), family=result.family)


def build_release(result: AuditResult, k: int | None = None) -> PublicRelease:
    """The public release of ``result`` (which is not changed), with counts below ``k`` withheld.

    Parameters
    ----------
    result:
        A finished audit.
    k:
        The smallest count that may be published (people, or summed weights in a weighted audit); default
        ``result.spec.report.small_cell_k``; an integer ≥ 1.

    Returns
    -------
    PublicRelease
        Suppression and the disclosure audit run once here; every public writer renders from this object.
    """
    public, check = enforce(result, k)
    withheld = dict(public.withheld) | {"disclosure": check.added}
    return PublicRelease(k=public.k, result=_public_result(result, public), labels=public.labels,
                         withheld=withheld, check=check)
