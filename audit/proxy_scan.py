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


def proxy_table(spec: AuditSpec, base_dir: Path, data: Any = None) -> ProxyScan:
    """Scan for proxies as ``spec.proxies`` says; the table is ranked within each protected attribute."""
    settings = spec.proxies
    assert settings is not None
    relation = open_relation(spec, base_dir, data)
    if spec.data.where:
        relation = relation.filter(f"coalesce(({spec.data.where})::BOOLEAN, FALSE)")
    plan = plan_for(spec)
    used = set(plan.columns) - set(spec.protected_columns)
    return scan_proxies(relation, spec.protected_columns, exclude=tuple(used | set(settings.exclude)),
                        columns=settings.columns, threshold=settings.threshold,
                        numeric_bins=settings.numeric_bins)
