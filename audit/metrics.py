"""The metric registry: every group metric defined once, from counts.

Each group's rows fall into nine *states*: the ground truth ``y`` and the
decision ``d`` are each negative (0), positive (1) or missing (2). A state is
``y * 3 + d``. A metric is a ratio of two sums of state counts (a proportion),
the group size (``count``), the group's share of its attribute (``share``), or a
function of the four confusion counts (``balanced_accuracy``, ``f1``).

Direction is metadata, never a sign: :class:`Harm` says which way a metric
moves when a group is worse off, and :func:`worse_when` resolves it for a
decision that is favourable or adverse to the person. An empty denominator
makes a metric *undefined*, with the reason in ``undefined_when``; it is never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

from audit.errors import UsageError, ReasonCode, did_you_mean

NEG, POS, MISSING = 0, 1, 2
N_STATES = 9


def state(y: int, d: int) -> int:
    """Index of the state with ground truth ``y`` and decision ``d`` (each 0, 1 or 2)."""
    return y * 3 + d


def _states(ys: tuple[int, ...], ds: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(state(y, d) for y in ys for d in ds)


ANY = (NEG, POS, MISSING)
KNOWN = (NEG, POS)
TP, FP, FN, TN = state(POS, POS), state(NEG, POS), state(POS, NEG), state(NEG, NEG)


class Kind(str, Enum):
    """How a metric is computed from the state counts."""

    COUNT = "count"            # number of rows (sum of weights)
    SHARE = "share"            # rows of the group over rows of the attribute
    PROPORTION = "proportion"  # sum(numerator states) / sum(denominator states)
    DERIVED = "derived"        # a function of tp, fp, fn, tn without a closed-form interval


class Harm(str, Enum):
    """Which direction of a metric means a group is worse off.

    ``POSITIVE_DECISION``: the metric is a share of positive decisions (higher
    means more positive decisions), so higher is worse when the decision is
    adverse and lower is worse when it is favourable. ``NEGATIVE_DECISION``:
    the mirror image. ``LOWER``: a quality measure, lower is always worse.
    ``HIGHER``: a loss or error measure, higher is always worse.
    ``NONE``: descriptive, no direction.
    """

    POSITIVE_DECISION = "positive_decision"
    NEGATIVE_DECISION = "negative_decision"
    LOWER = "lower"
    HIGHER = "higher"
    NONE = "none"


Worse = Literal["higher", "lower"]


@dataclass(frozen=True)
class MetricDef:
    """One group metric: its formula on counts, direction and undefined rule."""

    name: str
    full_name: str
    kind: Kind
    formula: str
    harm: Harm
    needs_outcome: bool
    undefined_when: str
    numerator: tuple[int, ...] = ()
    denominator: tuple[int, ...] = ()
    reference: str = ""

    @property
    def has_test(self) -> bool:
        """Whether comparisons of this metric get a two-proportion test."""
        return self.kind in (Kind.PROPORTION, Kind.SHARE)

    def worse_when(self, *, adverse: bool) -> Worse | None:
        """``"higher"`` or ``"lower"``: the direction in which a group is worse off."""
        return worse_when(self.harm, adverse=adverse)


def worse_when(harm: Harm, *, adverse: bool) -> Worse | None:
    """Resolve a :class:`Harm` for a decision that is adverse (or favourable) to the person."""
    if harm is Harm.LOWER:
        return "lower"
    if harm is Harm.HIGHER:
        return "higher"
    if harm is Harm.POSITIVE_DECISION:
        return "higher" if adverse else "lower"
    if harm is Harm.NEGATIVE_DECISION:
        return "lower" if adverse else "higher"
    return None


_CM = "Confusion-matrix rates: Fawcett (2006), An introduction to ROC analysis."

METRICS: dict[str, MetricDef] = {
    m.name: m
    for m in (
        MetricDef("count", "group size", Kind.COUNT, "n (sum of weights)", Harm.NONE, False,
                  "never"),
        MetricDef("share", "share of the population", Kind.SHARE, "n_group / n_attribute", Harm.NONE,
                  False, "the attribute has no rows"),
        MetricDef("selection_rate", "selection rate", Kind.PROPORTION,
                  "positive decisions / rows with a decision", Harm.POSITIVE_DECISION, False,
                  "no rows with a decision",
                  _states(ANY, (POS,)), _states(ANY, KNOWN),
                  "NYC Local Law 144, 6 RCNY 5-300; 29 CFR 1607.4(D)"),
        MetricDef("base_rate", "base rate (prevalence)", Kind.PROPORTION,
                  "actual positives / rows with a known outcome", Harm.NONE, True,
                  "no rows with a known outcome", _states((POS,), ANY), _states(KNOWN, ANY)),
        MetricDef("tpr", "true positive rate", Kind.PROPORTION, "TP / (TP + FN)",
                  Harm.POSITIVE_DECISION, True, "no actual positives", (TP,), (TP, FN), _CM),
        MetricDef("fpr", "false positive rate", Kind.PROPORTION, "FP / (FP + TN)",
                  Harm.POSITIVE_DECISION, True, "no actual negatives", (FP,), (FP, TN), _CM),
        MetricDef("fnr", "false negative rate", Kind.PROPORTION, "FN / (TP + FN)",
                  Harm.NEGATIVE_DECISION, True, "no actual positives", (FN,), (TP, FN), _CM),
        MetricDef("tnr", "true negative rate", Kind.PROPORTION, "TN / (FP + TN)",
                  Harm.NEGATIVE_DECISION, True, "no actual negatives", (TN,), (FP, TN), _CM),
        MetricDef("ppv", "positive predictive value", Kind.PROPORTION, "TP / (TP + FP)",
                  Harm.NEGATIVE_DECISION, True, "no positive decisions with a known outcome",
                  (TP,), (TP, FP), _CM),
        MetricDef("npv", "negative predictive value", Kind.PROPORTION, "TN / (TN + FN)",
                  Harm.POSITIVE_DECISION, True, "no negative decisions with a known outcome",
                  (TN,), (TN, FN), _CM),
        MetricDef("fdr", "false discovery rate", Kind.PROPORTION, "FP / (TP + FP)",
                  Harm.POSITIVE_DECISION, True, "no positive decisions with a known outcome",
                  (FP,), (TP, FP), _CM),
        MetricDef("for", "false omission rate", Kind.PROPORTION, "FN / (TN + FN)",
                  Harm.NEGATIVE_DECISION, True, "no negative decisions with a known outcome",
                  (FN,), (TN, FN), _CM),
        MetricDef("accuracy", "accuracy", Kind.PROPORTION, "(TP + TN) / (TP + FP + FN + TN)",
                  Harm.LOWER, True, "no rows with both a decision and a known outcome",
                  (TP, TN), (TP, FP, FN, TN), _CM),
        MetricDef("balanced_accuracy", "balanced accuracy", Kind.DERIVED, "(TPR + TNR) / 2",
                  Harm.LOWER, True, "no actual positives or no actual negatives", (), (),
                  "Brodersen et al. (2010), The balanced accuracy and its posterior distribution"),
        MetricDef("f1", "F1 score", Kind.DERIVED, "2 TP / (2 TP + FP + FN)", Harm.LOWER, True,
                  "no actual positives and no positive decisions", (), (),
                  "van Rijsbergen (1979), Information Retrieval"),
        MetricDef("fp_share", "false-positive share", Kind.PROPORTION,
                  "FP / (TP + FP + FN + TN)", Harm.POSITIVE_DECISION, True,
                  "no rows with both a decision and a known outcome", (FP,), (TP, FP, FN, TN),
                  "City of Amsterdam, Slimme Check bias analysis (2023)"),
    )
}

METRIC_NAMES: tuple[str, ...] = tuple(METRICS)


Needs = Literal["score", "score_outcome", "final_decision", "checked", "tiers", "amount"]


@dataclass(frozen=True)
class ExtraMetric:
    """A metric beyond the rate registry: from score histograms, tiers, overrides, amounts or label checks.

    ``needs`` names the part of the spec it requires. Metrics of the ``tiers``
    and ``amount`` families are written ``family:TIER`` or ``family:COLUMN``
    (``tier_rate:blacklist``, ``mean:days_to_process``, ``q90:days_to_process``);
    their direction comes from the spec (the tier's kind, ``higher_is``).
    """

    name: str
    full_name: str
    needs: Needs
    harm: Harm
    definition: str


EXTRA_METRICS: dict[str, ExtraMetric] = {
    m.name: m
    for m in (
        ExtraMetric("auc", "area under the ROC curve", "score_outcome", Harm.LOWER,
                    "P(score of an actual positive > score of an actual negative) + 0.5 P(tie)"),
        ExtraMetric("brier", "Brier score", "score_outcome", Harm.HIGHER, "mean of (score - outcome)²"),
        ExtraMetric("ece", "expected calibration error", "score_outcome", Harm.HIGHER,
                    "Σ_bins (n_bin / n) |observed rate - mean score|"),
        ExtraMetric("calibration_in_the_large", "calibration in the large", "score_outcome", Harm.NONE,
                    "mean score - observed rate"),
        ExtraMetric("scoring_rate", "scoring rate (NYC LL144)", "score", Harm.POSITIVE_DECISION,
                    "share of the group scoring above the full sample's median"),
        ExtraMetric("override_rate", "override rate", "final_decision", Harm.NONE,
                    "final decisions that differ from the recommendation / rows with both"),
        ExtraMetric("override_to_positive", "override to positive", "final_decision", Harm.POSITIVE_DECISION,
                    "negative recommendations made positive / negative recommendations"),
        ExtraMetric("override_to_negative", "override to negative", "final_decision", Harm.NEGATIVE_DECISION,
                    "positive recommendations made negative / positive recommendations"),
        ExtraMetric("check_rate", "check rate (selective labels)", "checked", Harm.NONE,
                    "rows whose outcome was checked / rows"),
        ExtraMetric("tier_rate", "tier rate", "tiers", Harm.NONE, "rows in the tier / rows"),
        ExtraMetric("tier_at_least", "cumulative tier rate", "tiers", Harm.NONE,
                    "rows in the tier or a later-listed tier / rows"),
        ExtraMetric("mean", "mean", "amount", Harm.NONE, "Σ value / rows with a value"),
        ExtraMetric("median", "median", "amount", Harm.NONE, "middle value (numpy's linear rule)"),
        ExtraMetric("quantile", "quantile", "amount", Harm.NONE, "qNN: the NN-th percentile, e.g. q90"),
    )
}


def metric_family(name: str) -> str:
    """The registry key of a metric name: ``tier_rate:x`` → ``tier_rate``, ``q90:days`` → ``quantile``."""
    family = name.split(":", 1)[0]
    if len(family) > 1 and family[0] == "q" and family[1:].isdigit() and ":" in name:
        return "quantile"
    return family


def get_metric(name: str) -> MetricDef:
    """The registry entry for ``name``; an unknown name raises with the valid names."""
    try:
        return METRICS[name]
    except KeyError:
        raise UsageError(
            f"unknown metric '{name}'{did_you_mean(name, METRICS)}; "
            f"valid metrics are: {', '.join(METRICS)}",
            reason=ReasonCode.SPEC_INVALID,
        ) from None


def applicable_metrics(*, has_outcome: bool) -> tuple[MetricDef, ...]:
    """The metrics computable with (or without) ground truth, in registry order."""
    return tuple(m for m in METRICS.values() if has_outcome or not m.needs_outcome)
