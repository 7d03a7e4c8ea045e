"""Fairness checks beside a team's model tests: ``assert_audit_passes`` for pytest (or any test runner).

>>> from audit.testing import assert_audit_passes
>>> def test_flags_are_fair():                                   # doctest: +SKIP
...     assert_audit_passes("fairness/spec.yaml", data=predictions_frame)

The audit is the same as ``audit run``: the spec's policy rules decide, and a
failure message lists every failing rule and group with its estimate, its
family-level interval and family-adjusted p-value, and its reason (for an
inconclusive one, what would decide it), so the test log says what to look at.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from audit.engine import run
from audit.expected import ExpectedFindings, check_expected, load_expected
from audit.outputs import percent, why
from audit.result import AuditResult
from audit.spec import AuditSpec
from audit.wording import interval, number, p_value, people

__all__ = ["assert_audit_finds", "assert_audit_passes"]


def assert_audit_passes(spec: "str | Path | Mapping[str, Any] | AuditSpec", data: Any = None, *,
                        strict: bool = False) -> AuditResult:
    """Run an audit and raise ``AssertionError`` when a policy rule fails.

    Parameters
    ----------
    spec : path, mapping or AuditSpec
        The audit spec, as for :func:`audit.run`.
    data : DataFrame, polars or pyarrow table, Spark DataFrame, ..., optional
        Replaces the spec's data (for example the predictions a test just made). Never modified.
    strict : bool
        Also fail when a verdict is inconclusive (too few people to decide), as ``audit run --strict``.

    Returns
    -------
    AuditResult
        The result, for further checks, when no rule fails.

    Raises
    ------
    AssertionError
        Listing each failing (or, with ``strict``, inconclusive) rule × group: attribute, group, reference,
        estimate with its family-level interval and family-adjusted p-value, people and the reason (and, for
        an inconclusive verdict, what would decide it). A spec without policy rules is always
        inconclusive, so with ``strict`` it fails.
    AuditError
        Bad spec or data, as :func:`audit.run` (a broken check is not a passing one).
    """
    result = run(spec, data)
    bad = {"fail", "inconclusive"} if strict else {"fail"}
    rows = result.verdicts[result.verdicts["verdict"].isin(bad)]
    if result.exit_code(strict=strict) == 0:
        return result
    lines = [f"audit of '{result.spec.system.name}': {result.verdict.upper()} "
             f"({len(rows)} rule x group verdict(s) {' or '.join(sorted(bad))})"]
    confidence = percent(result.family.confidence)
    for r in rows.to_dict(orient="records"):
        rule = result.spec.policy[int(r["rule_index"])].describe()
        family = interval(r["family_ci_low"], r["family_ci_high"])
        lines.append(f"  - [{r['verdict']}] {rule} | {r['view']} | {r['attribute']} = {r['group']} vs "
                     f"{r['reference']}: {number(r['estimate'])} (family CI {family} at {confidence} each, "
                     f"p (family) = {p_value(r['p_family'])}, n = {people(r['n'])}) — {why(r, result)}")
    if not len(rows):
        lines += [f"  - {note}" for note in result.notes]
    raise AssertionError("\n".join(lines))


def assert_audit_finds(spec: "str | Path | Mapping[str, Any] | AuditSpec",
                       expected: "str | Path | ExpectedFindings", data: Any = None) -> AuditResult:
    """Run an audit and raise ``AssertionError`` unless it makes exactly the expected findings.

    Parameters
    ----------
    spec : path, mapping or AuditSpec
        The audit spec, as for :func:`audit.run`.
    expected : path or ExpectedFindings
        The expected-findings YAML file (format in :mod:`audit.expected`), or its parsed form.
    data : optional
        Replaces the spec's data, as in :func:`assert_audit_passes`. Never modified.

    Returns
    -------
    AuditResult
        The result, when every expected finding is made and no more than ``allowed_unexpected`` others.

    Raises
    ------
    AssertionError
        Listing each expected finding not made, each finding made but not expected, and any mismatch of the
        overall verdict, the inconclusive verdicts or the flagged proxies.
    """
    wanted = expected if isinstance(expected, ExpectedFindings) else load_expected(expected)
    result = run(spec, data)
    check = check_expected(result, wanted)
    if not check.ok:
        raise AssertionError(f"audit of '{result.spec.system.name}' differs from its expected findings:\n"
                             + check.describe())
    return result
