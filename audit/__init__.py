"""Algorithmic-accountability audits: bias and disparate impact of decisions about people.

The public API: :func:`run` an audit from a spec, :func:`load_spec` and
:func:`validate_spec` to check one, and the metric registry ``METRICS``.
"""

from audit._version import __version__
from audit.engine import run
from audit.errors import AuditError, DataError, ReasonCode, SpecError, UsageError
from audit.metrics import METRICS, MetricDef, get_metric
from audit.result import AuditResult
from audit.spec import AuditSpec, load_spec, spec_json_schema, validate_spec

__all__ = ["__version__", "run", "AuditError", "DataError", "ReasonCode", "SpecError", "UsageError", "METRICS",
           "MetricDef", "get_metric", "AuditResult", "AuditSpec", "load_spec", "spec_json_schema",
           "validate_spec"]
