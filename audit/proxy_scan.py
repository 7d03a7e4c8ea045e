"""Proxy detection for an audit: every other column of the data scanned against each protected attribute.

A thin adapter over :func:`audit.proxies.scan_proxies`: it opens the data the
spec names (or takes the data given in its place) as a DuckDB relation, leaves
out the columns the audit already uses (outcome, decision, score, weights,
counts, amounts, checked flag), applies ``data.where``, and returns the ranked
table. It is a second scan of the data, separate from the counting pass,
because it reads columns the audit otherwise never touches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.proxies import ProxyScan, scan_proxies
from audit.sources import open_relation, plan_for
from audit.spec import AuditSpec
from audit.text_filter import filtered, with_numbers


def proxy_table(spec: AuditSpec, base_dir: Path, data: Any = None) -> ProxyScan:
    """Scan for proxies as ``spec.proxies`` says; the table is ranked within each protected attribute."""
    settings = spec.proxies
    assert settings is not None
    relation = open_relation(spec, base_dir, data)
    relation = filtered(relation, spec.data.where)
    plan = plan_for(spec)
    used = set(plan.columns) - set(spec.protected_columns)
    candidates = [c for c in relation.columns if c not in used | set(settings.exclude) | set(spec.protected_columns)
                  and (settings.columns is None or c in settings.columns)]
    relation = with_numbers(relation, candidates)      # a file read as text: its numeric columns binned as numbers
    return scan_proxies(relation, spec.protected_columns, exclude=tuple(used | set(settings.exclude)),
                        columns=settings.columns, threshold=settings.threshold,
                        numeric_bins=settings.numeric_bins)
