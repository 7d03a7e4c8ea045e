"""Less discriminatory alternatives: what fairlearn's mitigations would do to the model's disparities and accuracy.

Courts in disparate-impact cases ask whether an alternative exists that
serves the agency's purpose nearly as well with less disparity. With the model
in hand, fairlearn answers it two ways:

* **post-processing** (always): :class:`fairlearn.postprocessing.ThresholdOptimizer`
  on the model's probability, one per constraint (demographic parity,
  equalized odds, true-positive-rate parity), with group-specific thresholds;
* **re-training** (when the spec gives ``training: {path}`` and the model is a
  scikit-learn estimator): :class:`fairlearn.reductions.ExponentiatedGradient`
  over a grid of constraint strengths (``difference_bound``).

Every alternative is fitted on one part of the audited rows and judged on the
rest (a seeded split, ``holdout`` of the rows; the current model is judged on
the same rows), because thresholds fitted and judged on the same rows look
better than they are. Each alternative's decisions are then counted per group
(the confusion counts, in one pass) and its rates follow the audit's own
definitions, so its gaps are the numbers an audit of it would show (an
alternative that flags nobody is judged too). The frontier table has one row
per alternative: accuracy, the agency's utility metric, and for each
disparity metric the largest gap (group minus reference) and the ratio
farthest from 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from audit.errors import DataError, ReasonCode, SpecError, UsageError
from audit.labels import UNKNOWN, binary_values, format_label, label_array
from audit.models import EstimatorModel, LoadedModel, as_read_csv_would
from audit.spec import AuditSpec, load_spec

CONSTRAINTS = ("demographic_parity", "equalized_odds", "true_positive_rate_parity")
DISPARITY_METRICS = ("selection_rate", "fpr", "fnr")
FRONTIER_COLUMNS = ["alternative", "method", "constraint", "bound", "current", "accuracy", "utility"]


@dataclass(frozen=True)
class AlternativeOptions:
    """How the alternatives are searched for.

    Attributes
    ----------
    attribute : str or None
        Protected column whose groups the constraints equalise; default the spec's first.
    holdout : float
        Share of the audited rows kept aside to judge every alternative (0 < holdout < 1).
    bounds : tuple of float
        ``difference_bound`` grid of the re-trained alternatives (units: proportion).
    utility : str
        The agency's utility metric (a registry metric with ground truth, e.g. ``tpr``: share of true cases
        the decisions catch), reported beside accuracy.
    constraints : tuple of str
        Constraints to try, among :data:`CONSTRAINTS`.
    max_fit_rows : int
        At most this many of the rows set aside for fitting are used (a seeded sample): fairlearn's threshold
        search walks every distinct score in Python, and thresholds fitted on 100,000 rows are already precise
        to about 0.003 in each rate. Every held-out row is still judged.
    """

    attribute: str | None = None
    holdout: float = 0.5
    bounds: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1)
    utility: str = "balanced_accuracy"
    constraints: tuple[str, ...] = CONSTRAINTS
    max_fit_rows: int = 100_000


@dataclass(frozen=True)
class Frontier:
    """The alternatives found and how each one fares on the held-out rows."""

    table: pd.DataFrame
    attribute: str
    reference: str
    rows_fitted: int
    rows_judged: int
    options: AlternativeOptions
    notes: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    def best(self, metric: str = "fpr") -> dict[str, Any] | None:
        """The alternative with the smallest ``metric`` gap, when it is smaller than the current model's."""
        current = self.table[self.table["current"]].iloc[0]
        others = self.table[~self.table["current"]].dropna(subset=[f"{metric}_gap"])
        if not len(others) or not np.isfinite(current[f"{metric}_gap"]):
            return None
        row = others.loc[others[f"{metric}_gap"].abs().idxmin()]
        return row.to_dict() if abs(row[f"{metric}_gap"]) < abs(current[f"{metric}_gap"]) else None

    def sentence(self, metric: str = "fpr") -> str:
        """The finding in one sentence, e.g. 'an alternative exists that cuts the FPR gap from 0.20 to 0.04 ...'."""
        current = self.table[self.table["current"]].iloc[0]
        best = self.best(metric)
        name = {"fpr": "false-positive-rate", "fnr": "false-negative-rate", "selection_rate": "selection-rate"}[metric]
        if best is None:
            return (f"no alternative tried narrows the {name} gap by {self.attribute} below the current model's "
                    f"{abs(current[f'{metric}_gap']):.2f}")
        kind, points = accuracy_change(current["accuracy"], best["accuracy"])
        change = {"cost": f"at a cost of {points:.1f} points of accuracy",
                  "gain": f"with a gain of {points:.1f} points of accuracy", "same": "at the same accuracy"}[kind]
        return (f"an alternative exists ({best['alternative']}) that cuts the {name} gap by {self.attribute} from "
                f"{abs(current[f'{metric}_gap']):.2f} to {abs(best[f'{metric}_gap']):.2f} {change} "
                f"({current['accuracy']:.3f} → {best['accuracy']:.3f}; {self.options.utility} "
                f"{current['utility']:.3f} → {best['utility']:.3f}; judged on {self.rows_judged:,} held-out rows)")

    def to_dict(self) -> dict[str, Any]:
        from audit.result import table_records

        return {"attribute": self.attribute, "reference": self.reference, "rows_fitted": self.rows_fitted,
                "rows_judged": self.rows_judged, "holdout": self.options.holdout, "bounds": list(self.options.bounds),
                "utility": self.options.utility, "constraints": list(self.options.constraints),
                "notes": list(self.notes), "provenance": self.provenance,
                "sentences": {m: self.sentence(m) for m in DISPARITY_METRICS}, "frontier": table_records(self.table)}


def accuracy_change(current: float, alternative: float) -> tuple[str, float]:
    """('cost', 'gain' or 'same', points): how an alternative changes accuracy, in percentage points.

    A change below 0.05 points (which rounds to 0.0) is 'same'.
    """
    points = (current - alternative) * 100
    return ("cost" if points > 0.05 else "gain" if points < -0.05 else "same"), abs(points)


class ScoreEstimator(ClassifierMixin, BaseEstimator):
    """A loaded model as the scikit-learn classifier fairlearn expects: classes [0, 1], predict_proba, fitted."""

    def __init__(self, model: LoadedModel) -> None:
        self.model = model
        self.classes_ = np.array([0, 1])

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, X: Any, y: Any, **kwargs: Any) -> "ScoreEstimator":
        return self                                              # prefit: never trained again

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        scores = self.model.predict(X).scores
        assert scores is not None
        return np.column_stack([1.0 - scores, scores])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict(X).decisions.astype(np.int64)



def split_rows(n: int, holdout: float, seed: int, max_fit_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows to fit, rows to judge): a seeded random split, both sorted; ``holdout`` of the rows are judged.

    With ``max_fit_rows``, the rows to fit are the first ``max_fit_rows`` of the same permutation's remainder.
    """
    order = np.random.default_rng(seed).permutation(n)
    judged = int(round(n * holdout))
    fit = order[judged:] if max_fit_rows is None else order[judged:judged + max_fit_rows]
    return np.sort(fit), np.sort(order[:judged])


def threshold_alternatives(model: LoadedModel, X_fit: pd.DataFrame, y_fit: np.ndarray, s_fit: np.ndarray,
                           X_judge: pd.DataFrame, s_judge: np.ndarray, *, constraints: Sequence[str],
                           seed: int) -> list[tuple[str, str, np.ndarray]]:
    """(name, constraint, decisions on the judged rows) of a ThresholdOptimizer per constraint."""
    from fairlearn.postprocessing import ThresholdOptimizer

    found = []
    for constraint in constraints:
        optimizer = ThresholdOptimizer(estimator=ScoreEstimator(model), constraints=constraint, prefit=True,
                                       predict_method="predict_proba")
        optimizer.fit(X_fit, y_fit, sensitive_features=s_fit)
        decisions = np.asarray(optimizer.predict(X_judge, sensitive_features=s_judge, random_state=seed))
        found.append((f"thresholds: {constraint.replace('_', ' ')}", constraint, decisions.astype(np.int64)))
    return found


def _reduction(constraint: str, bound: float) -> Any:
    from fairlearn.reductions import DemographicParity, EqualizedOdds, TruePositiveRateParity

    kind = {"demographic_parity": DemographicParity, "equalized_odds": EqualizedOdds,
            "true_positive_rate_parity": TruePositiveRateParity}[constraint]
    return kind(difference_bound=bound)


def _weight_name(estimator: Any) -> str | None:
    """The fit parameter a sample weight goes to: a pipeline's last step's, else the estimator's own."""
    steps = getattr(estimator, "steps", None)
    return f"{steps[-1][0]}__sample_weight" if steps else None


def retrained_alternatives(estimator: Any, X_train: pd.DataFrame, y_train: np.ndarray, s_train: np.ndarray,
                           X_judge: pd.DataFrame, *, constraints: Sequence[str], bounds: Sequence[float],
                           seed: int) -> list[tuple[str, str, float, np.ndarray]]:
    """(name, constraint, bound, decisions on the judged rows) of ExponentiatedGradient over the grid."""
    from fairlearn.reductions import ExponentiatedGradient
    from sklearn.base import clone

    found = []
    for constraint in constraints:
        for bound in bounds:
            kwargs = {"sample_weight_name": name} if (name := _weight_name(estimator)) else {}
            mitigator = ExponentiatedGradient(clone(estimator), _reduction(constraint, bound), **kwargs)
            mitigator.fit(X_train, y_train, sensitive_features=s_train)
            decisions = np.asarray(mitigator.predict(X_judge, random_state=seed)).astype(np.int64)
            found.append((f"retrained: {constraint.replace('_', ' ')} ≤ {bound:g}", constraint, bound, decisions))
    return found


def _rates(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> dict[str, np.ndarray]:
    """Every utility and disparity metric from confusion counts (arrays, one per group); 0/0 is NaN."""
    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)

    n = tp + fp + fn + tn
    values = {"accuracy": ratio(tp + tn, n), "selection_rate": ratio(tp + fp, n), "tpr": ratio(tp, tp + fn),
              "tnr": ratio(tn, tn + fp), "ppv": ratio(tp, tp + fp), "npv": ratio(tn, tn + fn),
              "fpr": ratio(fp, fp + tn), "fnr": ratio(fn, fn + tp), "f1": ratio(2 * tp, 2 * tp + fp + fn)}
    values["balanced_accuracy"] = (values["tpr"] + values["tnr"]) / 2
    return values


UTILITY_METRICS = ("accuracy", "balanced_accuracy", "f1", "fnr", "fpr", "npv", "ppv", "selection_rate", "tnr",
                   "tpr")


def judge(decisions: np.ndarray, y: np.ndarray, groups: np.ndarray, *, reference: str, utility: str,
          unknown: str = UNKNOWN) -> dict[str, float]:
    """Accuracy, utility and, per disparity metric, the largest gap to ``reference`` and the ratio farthest from 1.

    Everything comes from the confusion counts of each group (one pass of ``bincount``), with the audit's
    definitions (:mod:`audit.metrics`): a rate whose denominator is empty is NaN and is left out, never 0.
    The group ``unknown`` (missing values) is never compared, as in the audit. An alternative that decides
    the same for everyone (nobody flagged) is judged like any other.
    """
    if utility not in UTILITY_METRICS:
        raise UsageError(f"--utility: '{utility}' is not a utility metric; choose one of {', '.join(UTILITY_METRICS)}",
                         reason=ReasonCode.OPTION_INVALID)
    labels, codes = np.unique(groups, return_inverse=True)
    cell = codes * 4 + 2 * (decisions == 1) + (y == 1)
    counts = np.bincount(cell, minlength=4 * len(labels)).reshape(len(labels), 4).astype(float)
    tn, fn, fp, tp = counts[:, 0], counts[:, 1], counts[:, 2], counts[:, 3]
    everyone = _rates(*(np.array([c.sum()]) for c in (tp, fp, fn, tn)))
    per_group = _rates(tp, fp, fn, tn)
    row = {"accuracy": float(everyone["accuracy"][0]), "utility": float(everyone[utility][0])}
    compared = (labels != reference) & (labels != unknown)
    at = np.flatnonzero(labels == reference)
    for metric in DISPARITY_METRICS:
        values = per_group[metric]
        ref = values[at[0]] if len(at) else np.nan
        differences = (values - ref)[compared]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = (values / ref)[compared]
        finite = np.isfinite(differences)
        row[f"{metric}_gap"] = float(differences[finite][np.abs(differences[finite]).argmax()]) if finite.any() \
            else float("nan")
        good = np.isfinite(ratios) & (ratios > 0)
        row[f"{metric}_ratio"] = float(ratios[good][np.abs(np.log(ratios[good])).argmax()]) if good.any() \
            else float("nan")
    return row


def _training_rows(spec: AuditSpec, base_dir: Path, attribute: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    from audit.readers import ReadOptions
    from audit.uploads import load_table

    assert spec.training is not None and spec.model is not None and spec.outcome is not None
    path = Path(spec.training.path) if Path(spec.training.path).is_absolute() else base_dir / spec.training.path
    frame = load_table(path, options=ReadOptions()).table.to_pandas()
    needed = [*spec.model.features, spec.outcome.column, attribute]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise DataError(f"training.path: '{path.name}' has no column '{missing[0]}'; the training data needs the "
                        f"model's features, the outcome and '{attribute}'", reason=ReasonCode.COLUMN_NOT_FOUND)
    y = binary_values(frame[spec.outcome.column], spec.outcome.positive)
    known = y >= 0
    if len(set(y[known].tolist())) < 2:
        raise DataError(f"training.path: the outcome '{spec.outcome.column}' of '{path.name}' has "
                        f"{'one value only' if known.any() else 'no values'}; re-training needs rows of both "
                        f"outcomes", reason=ReasonCode.LABEL_NOT_BINARY)
    groups = label_array(frame[attribute], missing=UNKNOWN)
    features = frame.loc[known, list(spec.model.features)]
    return features.assign(**{c: as_read_csv_would(features[c]) for c in features.columns}), y[known], groups[known]


def find_alternatives(spec: "str | Path | Mapping[str, Any] | AuditSpec", data: Any = None, *,
                      options: AlternativeOptions = AlternativeOptions(), trust_model: bool = False) -> Frontier:
    """Search for less discriminatory alternatives to the spec's model and judge them on held-out rows.

    Raises
    ------
    SpecError
        The spec has no model or no outcome, or ``options.attribute`` is not a protected column.
    UsageError
        Bad options, or re-training asked of a model that is not a scikit-learn estimator (ONNX).
    DataError
        The model gives no probabilities, or a group lacks the outcomes fairlearn needs.
    """
    from audit.model_audit import score_rows, audited_positions

    loaded, base_dir = load_spec(spec)
    if loaded.model is None or loaded.outcome is None:
        raise SpecError("audit alternatives needs 'model' (the model to improve on) and 'outcome' (ground truth to "
                        "judge accuracy)", reason=ReasonCode.SPEC_INVALID)
    if not 0 < options.holdout < 1:
        raise UsageError(f"--holdout must lie between 0 and 1; got {options.holdout}", reason=ReasonCode.OPTION_INVALID)
    unknown = [c for c in options.constraints if c not in CONSTRAINTS]
    if unknown:
        raise UsageError(f"--constraint: '{unknown[0]}' is not one of {', '.join(CONSTRAINTS)}",
                         reason=ReasonCode.OPTION_INVALID)
    if options.utility not in UTILITY_METRICS:
        raise UsageError(f"--utility: '{options.utility}' is not a utility metric; choose one of "
                         f"{', '.join(UTILITY_METRICS)}", reason=ReasonCode.OPTION_INVALID)
    attribute = options.attribute or loaded.protected_columns[0]
    if attribute not in loaded.protected_columns:
        raise SpecError(f"--attribute: '{attribute}' is not a protected column of the spec "
                        f"({', '.join(loaded.protected_columns)})", reason=ReasonCode.SPEC_INVALID)
    scored = score_rows(loaded, base_dir, data, trust=trust_model)
    if scored.output.scores is None:
        raise DataError("model: the model gives no probabilities, so there are no thresholds to move; "
                        "alternatives need a classifier with predict_proba", reason=ReasonCode.MODEL_INVALID)
    positions = audited_positions(loaded, scored.frame)
    frame = scored.frame.iloc[positions]
    y = binary_values(frame[loaded.outcome.column], loaded.outcome.positive)
    notes = []
    if loaded.outcome.checked is not None:
        checked = binary_values(frame[loaded.outcome.checked.column], loaded.outcome.checked.positive) == 1
        y = np.where(checked, y, -1)
        notes.append("selective labels: only checked rows have an outcome, so the alternatives are fitted and judged "
                     "on checked rows, which the current decisions chose; the frontier may not hold for everyone")
    known = y >= 0
    frame, y, decisions = frame[known], y[known], scored.output.decisions[positions][known].astype(np.int64)
    groups = label_array(frame[attribute], missing=UNKNOWN)
    reference = _reference(loaded, attribute, groups)
    seed = loaded.statistics.seed
    fit, judged = split_rows(len(frame), options.holdout, seed, options.max_fit_rows)
    X = frame.loc[:, list(loaded.model.features)]
    rows = [("current model", "current", "", np.nan, True, decisions[judged])]
    try:
        rows += [(name, "ThresholdOptimizer", constraint, np.nan, False, d) for name, constraint, d in
                 threshold_alternatives(scored.model, X.iloc[fit], y[fit], groups[fit], X.iloc[judged],
                                        groups[judged], constraints=options.constraints, seed=seed)]
    except ValueError as error:
        raise DataError(f"fairlearn could not fit thresholds by {attribute}: {error}; each group needs rows with "
                        f"both outcomes in the fitted part", reason=ReasonCode.MODEL_INVALID) from None
    if loaded.training is not None:
        if not isinstance(scored.model, EstimatorModel):
            raise UsageError("training: re-training needs a scikit-learn estimator (a .skops file); an ONNX graph "
                             "cannot be trained again", reason=ReasonCode.UNSUPPORTED_DATA)
        X_train, y_train, s_train = _training_rows(loaded, base_dir, attribute)
        try:
            rows += [(name, "ExponentiatedGradient", constraint, bound, False, d) for name, constraint, bound, d in
                     retrained_alternatives(scored.model.estimator, X_train, y_train, s_train, X.iloc[judged],
                                            constraints=options.constraints, bounds=options.bounds, seed=seed)]
        except (ValueError, TypeError) as error:
            raise DataError(f"training.path: fairlearn could not re-train the model on '{loaded.training.path}' by "
                            f"{attribute}: {str(error).splitlines()[0]}; the training data needs both outcomes and "
                            f"rows of every group", reason=ReasonCode.MODEL_INVALID) from None
    records = []
    for name, method, constraint, bound, current, d in rows:
        records.append({"alternative": name, "method": method, "constraint": constraint, "bound": bound,
                        "current": current} | judge(d, y[judged], groups[judged], reference=reference,
                                                    utility=options.utility))
    table = pd.DataFrame(records)
    provenance = {"model": scored.model.describe(), "seed": seed, "fairlearn": _version("fairlearn")}
    return Frontier(table=table, attribute=attribute, reference=reference, rows_fitted=len(fit),
                    rows_judged=len(judged), options=options, notes=tuple(notes), provenance=provenance)


def _reference(spec: AuditSpec, attribute: str, groups: np.ndarray) -> str:
    """The attribute's named reference group, else its largest known group (one reference for every gap)."""
    named = next(p.reference for p in spec.protected if p.column == attribute)
    if named is not None:
        return str(format_label(named))
    values, counts = np.unique(groups[groups != UNKNOWN], return_counts=True)
    return str(values[counts.argmax()])


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


FRONTIER_FILES = ("alternatives.json", "alternatives.csv", "alternatives.svg", "alternatives.md")


def frontier_svg(frontier: Frontier, metric: str = "fpr") -> str:
    """The frontier chart: accuracy against the absolute ``metric`` gap, the current model in red."""
    from audit.report.charts import Point, frontier_chart

    points = [Point(label=str(r["alternative"]), gap=float(r[f"{metric}_gap"]), accuracy=float(r["accuracy"]),
                    current=bool(r["current"])) for r in frontier.table.to_dict(orient="records")]
    name = {"fpr": "false-positive rate", "fnr": "false-negative rate", "selection_rate": "selection rate"}[metric]
    return frontier_chart(points, title=f"Accuracy against the {name} gap by {frontier.attribute}",
                          x_title=f"largest {name} gap to {frontier.reference} (absolute)",
                          y_title="accuracy on held-out rows")


def write_frontier(frontier: Frontier, out_dir: str | Path, *, metric: str = "fpr") -> dict[str, Path]:
    """Write :data:`FRONTIER_FILES` into ``out_dir``: the table (JSON, CSV), the chart (SVG) and a summary."""
    import json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in FRONTIER_FILES}
    paths["alternatives.json"].write_text(json.dumps(frontier.to_dict(), indent=2, ensure_ascii=False,
                                                     default=str), encoding="utf-8")
    frontier.table.to_csv(paths["alternatives.csv"], index=False, lineterminator="\n")
    paths["alternatives.svg"].write_text(frontier_svg(frontier, metric), encoding="utf-8")
    columns = ["alternative", "accuracy", "utility", *(f"{m}_gap" for m in DISPARITY_METRICS)]
    lines = [f"# Less discriminatory alternatives by {frontier.attribute} (reference {frontier.reference})", "",
             f"Fitted on {frontier.rows_fitted:,} rows and judged on {frontier.rows_judged:,} held-out rows "
             f"(seed {frontier.provenance.get('seed')}); utility: {frontier.options.utility}.", "",
             *(f"- {frontier.sentence(m)}" for m in DISPARITY_METRICS), "",
             "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in frontier.table.to_dict(orient="records"):
        cells = [f"**{r['alternative']}**" if r["current"] else str(r["alternative"])]
        cells += [f"{r[c]:.3f}" if np.isfinite(r[c]) else "undefined" for c in columns[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *(f"Note: {n}" for n in frontier.notes)]
    paths["alternatives.md"].write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return paths
