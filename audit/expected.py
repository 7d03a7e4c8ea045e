"""Expected findings: what an audit of a known system must find, written down before the audit runs.

A scenario with planted disparities (``examples/*``), or a team that has
accepted a known disparity while it is being fixed, writes the findings it
expects in a small YAML file::

    verdict: fail                 # the overall verdict
    fail:                         # exactly these rule x group verdicts fail
      - {metric: selection_rate, attribute: nationality, groups: [Moroccan, Syrian]}
      - {metric: fpr, view: "score ≥ 0.7", attribute: language, groups: [Arabic]}
    inconclusive: [...]           # optional, same form: exactly these are inconclusive
    proxies:                      # optional: exactly these columns are flagged as proxies
      nationality: [district, language_at_home]
    allowed_unexpected: 0         # verdicts beyond the list tolerated (false discoveries)

An entry without ``view`` stands for every view in which its metric has a
verdict for that group (every threshold of a score, the final decision, ...).
:func:`check_expected` compares a result with the file both ways: a finding
listed but not made is *missing* (the audit lacked the power to see a planted
disparity), a finding made but not listed is *unexpected* (a false discovery,
or a disparity nobody documented). Neither list says anything about a
verdict's estimate; the report carries those.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit.errors import ReasonCode, UsageError
from audit.result import AuditResult

Key = tuple[str, str, str, str]
"""(view, metric, attribute, group) of one rule x group verdict."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedVerdicts(_Model):
    """Groups of one attribute whose verdict on one metric (in one view, or in all) is expected."""

    metric: str = Field(description="Metric of the policy rule, e.g. selection_rate or tier_rate:blacklist.")
    attribute: str = Field(description="Protected attribute or intersection (joined with ' × ').")
    groups: tuple[str, ...] = Field(min_length=1, description="Groups whose verdict is expected.")
    view: str | None = Field(default=None, description="Decision view, e.g. 'score ≥ 0.7'; default every view.")
    why: str | None = Field(default=None, description="The planted fact this finding stands for.")


class ExpectedFindings(_Model):
    """The findings an audit must make, and how many others it may make."""

    verdict: Literal["pass", "fail", "inconclusive"] | None = None
    fail: tuple[ExpectedVerdicts, ...] = ()
    inconclusive: tuple[ExpectedVerdicts, ...] | None = Field(
        default=None, description="When given, exactly these verdicts are inconclusive.")
    proxies: dict[str, tuple[str, ...]] | None = Field(
        default=None, description="When given, exactly these columns are flagged, by protected attribute.")
    allowed_unexpected: int = Field(default=0, ge=0, description="Unlisted failing verdicts tolerated.")


@dataclass(frozen=True)
class ExpectedCheck:
    """How a result compares with its expected findings: empty lists mean it matches."""

    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    other: tuple[str, ...]
    allowed_unexpected: int

    @property
    def ok(self) -> bool:
        """Nothing missing, no mismatch of verdict or proxies, and no more unexpected findings than allowed."""
        return not self.missing and not self.other and len(self.unexpected) <= self.allowed_unexpected

    def describe(self) -> str:
        """A plain-text account, one line per difference."""
        if self.ok and not self.unexpected:
            return "the audit made exactly the expected findings"
        lines = [f"missing (expected, not found): {m}" for m in self.missing]
        lines += [f"unexpected (found, not expected): {u}" for u in self.unexpected]
        if self.unexpected and len(self.unexpected) <= self.allowed_unexpected:
            lines.append(f"{len(self.unexpected)} unexpected finding(s), within the {self.allowed_unexpected} allowed")
        return "\n".join(lines + list(self.other))


def load_expected(path: str | Path) -> ExpectedFindings:
    """Read and validate an expected-findings YAML file.

    Raises
    ------
    UsageError
        The file is missing, is not YAML, or has an unknown or malformed field (each named with its path).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"expected-findings file '{path}' not found", reason=ReasonCode.OPTION_INVALID) from None
    except yaml.YAMLError as error:
        raise UsageError(f"expected-findings file '{path}' is not valid YAML: {error}",
                         reason=ReasonCode.OPTION_INVALID) from None
    try:
        return ExpectedFindings.model_validate(raw or {})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise UsageError(f"expected-findings file '{path}': {problems}", reason=ReasonCode.OPTION_INVALID) from None


def _label(key: Key) -> str:
    view, metric, attribute, group = key
    return f"{metric} | {view} | {attribute} = {group}"


def _expand(entries: tuple[ExpectedVerdicts, ...], verdicts: pd.DataFrame) -> set[Key]:
    """Every (view, metric, attribute, group) an entry stands for; an entry without a view covers each view."""
    keys: set[Key] = set()
    for entry in entries:
        for group in entry.groups:
            if entry.view is not None:
                keys.add((entry.view, entry.metric, entry.attribute, group))
                continue
            rows = verdicts[(verdicts["metric"] == entry.metric) & (verdicts["attribute"] == entry.attribute)
                            & (verdicts["group"].astype(str) == group)]
            views = sorted(set(rows["view"])) or ["(any view)"]
            keys.update((view, entry.metric, entry.attribute, group) for view in views)
    return keys


def _made(verdicts: pd.DataFrame, verdict: str) -> set[Key]:
    rows = verdicts[verdicts["verdict"] == verdict]
    return {(str(r.view), str(r.metric), str(r.attribute), str(r.group)) for r in rows.itertuples()}


def _flagged_proxies(result: AuditResult) -> dict[str, tuple[str, ...]]:
    if "proxies" not in result.tables:
        return {}
    table = result.tables["proxies"]
    flagged = table[table["flagged"].astype(bool)]
    return {str(p): tuple(sorted(map(str, rows["column"]))) for p, rows in flagged.groupby("protected")}


def check_expected(result: AuditResult, expected: ExpectedFindings) -> ExpectedCheck:
    """Compare an audit result with the findings expected of it (see the module docstring)."""
    verdicts = result.verdicts
    want = _expand(expected.fail, verdicts)
    made = _made(verdicts, "fail")
    other: list[str] = []
    if expected.verdict is not None and result.verdict != expected.verdict:
        other.append(f"overall verdict: expected {expected.verdict}, got {result.verdict}")
    if expected.inconclusive is not None:
        want_open, made_open = _expand(expected.inconclusive, verdicts), _made(verdicts, "inconclusive")
        other += [f"inconclusive expected, not found: {_label(k)}" for k in sorted(want_open - made_open)]
        other += [f"inconclusive, not expected: {_label(k)}" for k in sorted(made_open - want_open)]
    if expected.proxies is not None:
        flagged = _flagged_proxies(result)
        wanted = {p: tuple(sorted(c)) for p, c in expected.proxies.items() if c}
        for protected in sorted(set(flagged) | set(wanted)):
            if flagged.get(protected, ()) != wanted.get(protected, ()):
                other.append(f"proxies of {protected}: expected {list(wanted.get(protected, ()))}, "
                             f"flagged {list(flagged.get(protected, ()))}")
    return ExpectedCheck(missing=tuple(_label(k) for k in sorted(want - made)),
                         unexpected=tuple(_label(k) for k in sorted(made - want)),
                         other=tuple(other), allowed_unexpected=expected.allowed_unexpected)
