"""An audit with the model itself: the model's decisions and scores fill the data, then the flip test runs.

:func:`score_rows` loads the spec's model safely (:mod:`audit.models`), reads
the data into memory, and scores every row. When the data lacks the spec's
decision column (``decision.column``: 1 for a positive decision, 0 for a
negative one) or score column (``score.column``: the probability of
``model.positive``), the model's output fills it, and the whole audit runs on
it. A file keeps its identity: the rows are counted as the file they were
read from (its SHA-256), and the model's SHA-256 is recorded beside it.

:func:`model_findings` then runs the counterfactual flip test
(:mod:`audit.counterfactual`) on the audited rows (after ``data.where``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from audit.backends import is_spark_frame
from audit.counterfactual import FlipFindings, flip_test
from audit.errors import DataError, ReasonCode, SpecError, UsageError
from audit.labels import binary_values
from audit.models import LoadedModel, ModelOutput, load_model
from audit.spec import AuditSpec
from audit.text_filter import filtered


@dataclass(frozen=True)
class ScoredRows:
    """The data with the model's output, ready to count.

    Attributes
    ----------
    data : LoadedTable or pandas.DataFrame
        What the audit counts: the input (never modified) plus any column the model filled.
    frame : pandas.DataFrame
        Every row read, as pandas (the flip test's input).
    output : ModelOutput
        The model's output on every row of ``frame``.
    model : LoadedModel
    filled : tuple of str
        Columns the model filled (empty when the data had them already).
    agreement : float or None
        Share of rows whose decision in the data equals the model's, when the data had its own decision.
    """

    data: Any
    frame: pd.DataFrame
    output: ModelOutput
    model: LoadedModel
    filled: tuple[str, ...]
    agreement: float | None


def agreement_note(column: str, agreement: float | None) -> str:
    """The note on how often the model's decisions equal the data's ``column``; ``agreement`` is a share in
    [0, 1], or None when small-cell suppression withholds it (it would give a small count of rows back)."""
    share = "a share withheld to protect fewer than k rows" if agreement is None else f"{agreement:.1%}"
    return f"the model's decisions equal the data's '{column}' on {share} of the rows; the flip test judges the model"


@dataclass(frozen=True)
class ModelFindings:
    """What the model adds to a result: its provenance, the flip tables and notes."""

    provenance: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    notes: tuple[str, ...]


def _read_frame(spec: AuditSpec, base_dir: Path, data: Any) -> tuple[pd.DataFrame, Any]:
    """(every row as pandas, the LoadedTable it came from or None)."""
    from audit.sources import read_options
    from audit.uploads import LoadedTable, load_table

    if (data is None and spec.data.url) or is_spark_frame(data):
        where = "a database (data.url)" if data is None else "a Spark DataFrame"
        raise UsageError(f"model: the model scores rows in this process, not in {where}; export the features and "
                         f"the protected columns to a Parquet file and audit that", reason=ReasonCode.UNSUPPORTED_DATA)
    if data is None:
        if not spec.data.path:
            raise SpecError("data.path: the spec names no data file for the model to score; add "
                            "'data: {path: FILE}', or pass the data directly", reason=ReasonCode.SPEC_INVALID)
        path = Path(spec.data.path)
        data = load_table(path if path.is_absolute() else base_dir / path, options=read_options(spec))
    if isinstance(data, LoadedTable):
        return data.table.to_pandas(), data
    if isinstance(data, pd.DataFrame):
        return data, None
    if hasattr(data, "to_pandas"):                       # polars or pyarrow
        return data.to_pandas(), None
    raise UsageError(f"model: data of type {type(data).__name__} cannot be scored; pass a pandas DataFrame",
                     reason=ReasonCode.UNSUPPORTED_DATA)


def score_rows(spec: AuditSpec, base_dir: Path, data: Any = None, *, trust: bool = False) -> ScoredRows:
    """Load the model, score every row, and fill the decision or score column when the data lacks it.

    Raises
    ------
    UsageError
        The model is refused (see :func:`audit.models.load_model`), or the data lives in a database or Spark.
    DataError
        The model fails on the data, or the spec wants a score from a model without probabilities.
    """
    assert spec.model is not None
    model = load_model(spec.model, base_dir, trust=trust)
    frame, loaded = _read_frame(spec, base_dir, data)
    output = model.predict(frame)
    column = spec.decision_column or ""
    filled: tuple[str, ...] = ()
    agreement = None
    if column in frame.columns:
        if spec.decision is not None and spec.tiers is None and len(frame):
            own = binary_values(frame[column], spec.decision.positive) == 1
            agreement = float(np.mean(own == output.decisions))
    else:
        if spec.score is not None:
            if output.scores is None:
                raise DataError(f"score.column: the data has no column '{column}' and the model gives no "
                                f"probabilities to fill it; use 'decision: {{column: {column}}}' for its predicted "
                                f"class", reason=ReasonCode.MODEL_INVALID)
            values = output.scores
        else:
            values = output.decisions.astype(np.int64)
        filled = (column,)
        if loaded is not None:
            from audit.uploads import LoadedTable

            data = LoadedTable(name=loaded.name, table=loaded.table.append_column(column, pa.array(values)),
                               info=loaded.info)
        else:
            data = frame.assign(**{column: values})
    return ScoredRows(data=data if data is not None else loaded, frame=frame, output=output, model=model,
                      filled=filled, agreement=agreement)


def audited_positions(spec: AuditSpec, frame: pd.DataFrame) -> np.ndarray:
    """0-based positions of the rows ``data.where`` keeps (all rows without a filter)."""
    if not spec.data.where:
        return np.arange(len(frame))
    from audit.uploads import locked_connection

    relation = locked_connection().from_df(frame.assign(__audit_row=np.arange(len(frame))))
    kept = filtered(relation, spec.data.where).project("__audit_row").fetchnumpy()["__audit_row"]
    return np.sort(np.asarray(kept, dtype=np.int64))


def flip_columns(spec: AuditSpec, proxies: pd.DataFrame | None) -> tuple[list[str], list[str]]:
    """(columns to flip, notes): the named ones, or every protected column and flagged proxy the model takes."""
    assert spec.model is not None
    features = spec.model.features
    if spec.model.flip_attributes is not None:          # the spec validator checked they are features
        return list(spec.model.flip_attributes), []
    chosen = [c for c in spec.protected_columns if c in features]
    if proxies is not None and len(proxies):
        flagged = proxies[proxies["flagged"].astype(bool)]["column"].astype(str)
        chosen += [c for c in dict.fromkeys(flagged) if c in features and c not in chosen]
    notes = [] if chosen else ["flip test: the model takes none of the protected columns or flagged proxies, so "
                               "no decision can change with them directly (proxies not among its features can "
                               "still carry them)"]
    return chosen, notes


def model_findings(spec: AuditSpec, scored: ScoredRows, proxies: pd.DataFrame | None) -> ModelFindings:
    """The model's provenance, and the flip test on the audited rows when the spec asks for it."""
    assert spec.model is not None
    notes: list[str] = []
    provenance = scored.model.describe() | {"filled_columns": list(scored.filled)}
    if scored.filled:
        notes.append(f"the model '{scored.model.path.name}' filled column(s) {', '.join(scored.filled)}: "
                     + ("the probability of the positive class" if spec.score is not None
                        else "'1' for a positive decision, '0' otherwise"))
    if scored.agreement is not None:
        provenance["agreement_with_data"] = scored.agreement
        provenance["agreement_rows"] = len(scored.frame)
        notes.append(agreement_note(spec.decision_column or "", scored.agreement))
    tables: dict[str, pd.DataFrame] = {}
    if spec.model.flip_test:
        columns, more = flip_columns(spec, proxies)
        notes += more
        positions = audited_positions(spec, scored.frame)
        frame = scored.frame.iloc[positions]
        found: FlipFindings = flip_test(frame, scored.model, columns, baseline=scored.output.take(positions),
                                        row_numbers=positions + 1,
                                        confidence=spec.statistics.confidence,
                                        max_groups=spec.statistics.max_groups,
                                        sensitive_rows=spec.model.sensitive_rows)
        tables = {"flips": found.flips, "flip_rows": found.rows}
        notes += list(found.notes)
    return ModelFindings(provenance=provenance, tables=tables, notes=tuple(notes))
