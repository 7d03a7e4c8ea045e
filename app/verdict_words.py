"""The words around a verdict, in the visitor's language: the family it belongs to, its evidence, what would decide it.

Every sentence is built here from the numeric columns of the result's
``verdicts`` table and its :class:`~audit.family.Family` (never from the
toolkit's English sentences, such as :func:`audit.wording.to_decide`), so the
Vietnamese app says the same thing in Vietnamese. A number that is missing is
left out of the sentence, never written as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.family import DECIDING_POWER, Family
from audit.wording import is_finite, is_infinite
from audit_app.text import _, confidence_pct, count, n_, num, pct


def _percent(share: float) -> str:
    """A share as a percentage with the fewest decimals (at most 3) that write it exactly: 5%, 2.5%."""
    digits = next((d for d in range(3) if abs(round(share * 100, d) - share * 100) < 1e-9), 3)
    return pct(share, digits)


def family_sentences(family: Family, decision_rules: set[str]) -> list[str]:
    """What the family of an audit's verdicts guarantees, in plain words (one paragraph per item).

    Parameters
    ----------
    family : Family
        The result's family: its size ``M`` and its ``alpha``.
    decision_rules : set of str
        The decision rules its verdicts use (``significant``, ``ci``, ``point``):
        the bound on false fails does not cover ``point``, and passes are bound
        only under ``ci``.

    Returns
    -------
    list of str
        Empty sentences are never returned; an audit without verdicts gets one
        sentence saying so.
    """
    if family.size < 1:
        return [_("The spec has no policy rules, so this audit makes no verdicts.")]
    alpha = _percent(family.alpha)
    sentences = [
        n_("The audit's {size} verdict is judged as one family at α = {alpha}: the chance that data without any "
           "disparity shows a fail anywhere in this audit is at most {percent}.",
           "The audit's {size} verdicts are judged as one family at α = {alpha}: the chance that data without any "
           "disparity shows a fail anywhere in this audit is at most {percent}.", family.size).format(
            size=count(family.size), alpha=num(family.alpha), percent=alpha),
        _("Each family-level interval has {confidence} confidence (1 − α/{size}), so all of them hold at once with "
          "a chance of at least {overall}; p (family) is adjusted by Holm's method over the whole family.").format(
            confidence=confidence_pct(family.confidence), size=count(family.size),
            overall=confidence_pct(1.0 - family.alpha))]
    if "ci" in decision_rules:
        sentences.append(_("Under the rule 'ci' a pass is held to the same bound: it needs the family-level interval "
                           "inside the band."))
    if "point" in decision_rules:
        sentences.append(_("Verdicts of the rule 'point' compare the estimate alone: their fails are not "
                           "statistically established and this bound does not cover them."))
    return sentences


def evidence_word(evidence: Any) -> str:
    """``exact``, ``asymptotic`` or ``none`` (a verdict's ``evidence``) in the visitor's language."""
    words = {"exact": _("exact"), "asymptotic": _("asymptotic"), "none": _("none")}
    return words.get(evidence, "" if evidence is None else str(evidence))


def test_name(test: Any) -> str:
    """A comparison's test code (``fisher``, ``z``, ``Welch t``...) as a name; an unknown code as written."""
    names = {"fisher": _("Fisher's exact test"), "z": _("z test"),
             "z (effective counts)": _("z test (effective counts)"), "Welch t": _("Welch's t test"),
             "Mann–Whitney": _("Mann–Whitney test"),
             "z (DeLong, independent groups)": _("z test (DeLong, independent groups)"),
             "z (bootstrap standard errors)": _("z test (bootstrap standard errors)"), "none": _("no test")}
    return names.get(test, "" if test is None else str(test))


def to_decide(row: Mapping[str, Any]) -> str:
    """What would decide an inconclusive verdict, in the visitor's language; empty for a pass or a fail.

    ``row`` is a verdicts-table row. The sentence gives the smallest disparity
    the data detect with 80% power (``detectable_ratio`` or
    ``detectable_difference``, by the rule's ``bound``), the people the group
    needs at the observed rates (``needed_n``; ``inf`` when no size decides),
    how many of them need a known outcome (``needed_known_outcomes``), and the
    reference's people when it must grow too (``needed_reference_n``).
    """
    if row.get("verdict") != "inconclusive":
        return ""
    parts: list[str] = []
    bound = row.get("bound", "ratio")
    detectable = row.get(f"detectable_{bound}")
    power = pct(DECIDING_POWER, 0)
    if is_finite(detectable):
        text = (_("detectable with {power} power: a ratio of {value} or further from parity") if bound == "ratio"
                else _("detectable with {power} power: a difference of {value} or further from parity"))
        parts.append(text.format(power=power, value=num(float(detectable))))
    needed = row.get("needed_n")
    if is_infinite(needed):
        parts.append(_("no group size decides it: the estimate sits on the band's edge or equals the reference"))
    elif is_finite(needed):
        parts.append(_("at the observed rates the group needs {people} people").format(people=count(float(needed))))
        if is_finite(row.get("needed_known_outcomes")):
            parts.append(_("{people} of them with a known outcome").format(
                people=count(float(row["needed_known_outcomes"]))))
        if is_finite(row.get("needed_reference_n")):
            parts.append(_("the reference needs {people} people").format(
                people=count(float(row["needed_reference_n"]))))
    return "; ".join(parts)


__all__ = ["family_sentences", "evidence_word", "test_name", "to_decide"]
