"""Errors raised by the toolkit.

Every error the toolkit raises on purpose derives from :class:`AuditError` and
also from a builtin (``ValueError`` or ``FileNotFoundError``) so callers may
catch either. Each carries a :class:`ReasonCode` so programs can branch on the
cause without parsing text, and a message that answers four questions: what is
wrong, where (file, column or field), what arrived, and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum


class ErrorCategory(str, Enum):
    """Whether a problem lies in the spec, the data, or the way a command was called."""

    SPEC = "spec"
    DATA = "data"
    USAGE = "usage"


class ReasonCode(str, Enum):
    """Machine-readable cause of an :class:`AuditError`."""

    SPEC_NOT_FOUND = "spec_not_found"
    SPEC_NOT_YAML = "spec_not_yaml"
    SPEC_INVALID = "spec_invalid"
    DATA_NOT_FOUND = "data_not_found"
    DATA_EMPTY = "data_empty"
    DATA_UNREADABLE = "data_unreadable"
    DATA_ENCODING = "data_encoding"
    COLUMN_NOT_FOUND = "column_not_found"
    LABEL_NOT_BINARY = "label_not_binary"
    SCORE_NOT_NUMERIC = "score_not_numeric"
    WEIGHT_INVALID = "weight_invalid"
    SINGLE_GROUP = "single_group"
    REFERENCE_NOT_FOUND = "reference_not_found"
    TOO_MANY_GROUPS = "too_many_groups"
    WHERE_INVALID = "where_invalid"
    NO_ROWS = "no_rows"
    UNSUPPORTED_DATA = "unsupported_data"
    COUNT_INVALID = "count_invalid"
    TIER_UNKNOWN = "tier_unknown"
    THRESHOLD_INVALID = "threshold_invalid"
    OVERRIDE_INVALID = "override_invalid"
    OPTION_INVALID = "option_invalid"
    KEY_INVALID = "key_invalid"
    MANIFEST_NOT_FOUND = "manifest_not_found"
    MANIFEST_INVALID = "manifest_invalid"
    RELEASE_UNSAFE = "release_unsafe"
    PDF_UNAVAILABLE = "pdf_unavailable"
    AUDIT_NOT_FOUND = "audit_not_found"
    AUDIT_NOT_OWNER = "audit_not_owner"
    MODEL_REFUSED = "model_refused"
    MODEL_INVALID = "model_invalid"
    SPEC_VALUE_AMBIGUOUS = "spec_value_ambiguous"


REASON_CATEGORY: dict[ReasonCode, ErrorCategory] = {
    ReasonCode.SPEC_NOT_FOUND: ErrorCategory.SPEC,
    ReasonCode.SPEC_NOT_YAML: ErrorCategory.SPEC,
    ReasonCode.SPEC_INVALID: ErrorCategory.SPEC,
    ReasonCode.DATA_NOT_FOUND: ErrorCategory.DATA,
    ReasonCode.DATA_EMPTY: ErrorCategory.DATA,
    ReasonCode.DATA_UNREADABLE: ErrorCategory.DATA,
    ReasonCode.DATA_ENCODING: ErrorCategory.DATA,
    ReasonCode.COLUMN_NOT_FOUND: ErrorCategory.DATA,
    ReasonCode.LABEL_NOT_BINARY: ErrorCategory.DATA,
    ReasonCode.SCORE_NOT_NUMERIC: ErrorCategory.DATA,
    ReasonCode.WEIGHT_INVALID: ErrorCategory.DATA,
    ReasonCode.SINGLE_GROUP: ErrorCategory.DATA,
    ReasonCode.REFERENCE_NOT_FOUND: ErrorCategory.DATA,
    ReasonCode.TOO_MANY_GROUPS: ErrorCategory.DATA,
    ReasonCode.WHERE_INVALID: ErrorCategory.SPEC,
    ReasonCode.NO_ROWS: ErrorCategory.DATA,
    ReasonCode.UNSUPPORTED_DATA: ErrorCategory.USAGE,
    ReasonCode.COUNT_INVALID: ErrorCategory.DATA,
    ReasonCode.TIER_UNKNOWN: ErrorCategory.DATA,
    ReasonCode.THRESHOLD_INVALID: ErrorCategory.DATA,
    ReasonCode.OVERRIDE_INVALID: ErrorCategory.DATA,
    ReasonCode.OPTION_INVALID: ErrorCategory.USAGE,
    ReasonCode.KEY_INVALID: ErrorCategory.USAGE,
    ReasonCode.MANIFEST_NOT_FOUND: ErrorCategory.DATA,
    ReasonCode.MANIFEST_INVALID: ErrorCategory.DATA,
    ReasonCode.RELEASE_UNSAFE: ErrorCategory.DATA,
    ReasonCode.PDF_UNAVAILABLE: ErrorCategory.USAGE,
    ReasonCode.AUDIT_NOT_FOUND: ErrorCategory.USAGE,
    ReasonCode.AUDIT_NOT_OWNER: ErrorCategory.USAGE,
    ReasonCode.MODEL_REFUSED: ErrorCategory.USAGE,
    ReasonCode.MODEL_INVALID: ErrorCategory.DATA,
    ReasonCode.SPEC_VALUE_AMBIGUOUS: ErrorCategory.DATA,
}


@dataclass(frozen=True)
class Problem:
    """One problem found while validating: where it is and what is expected.

    ``location`` is a dotted path into the spec (``policy[0].metric``) or a
    data location (``column 'race'``).
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class AuditError(Exception):
    """Base class of every error the toolkit raises on purpose."""

    def __init__(self, message: str, *, reason: ReasonCode, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.problems: tuple[Problem, ...] = tuple(problems)

    @property
    def category(self) -> ErrorCategory:
        return REASON_CATEGORY[self.reason]


class SpecError(AuditError, ValueError):
    """The audit spec is missing, not YAML, or does not validate."""


class DataError(AuditError, ValueError):
    """The data cannot be read or does not fit the spec."""


class UsageError(AuditError, ValueError):
    """The toolkit was called with arguments it cannot use."""


def closest(name: str, candidates: Iterable[str], *, limit: int = 3) -> list[str]:
    """Return up to ``limit`` candidates that look like ``name`` (case-insensitive)."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.6)
    return [lowered[h] for h in hits]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or ``""`` when nothing is close."""
    hits = closest(name, candidates)
    if not hits:
        return ""
    return " (did you mean " + " or ".join(f"'{h}'" for h in hits) + "?)"


def format_problems(header: str, problems: Sequence[Problem]) -> str:
    """One message: a header line, then one indented line per problem."""
    lines = [header] + [f"  - {p}" for p in problems]
    return "\n".join(lines)
