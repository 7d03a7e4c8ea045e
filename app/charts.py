"""Charts of an audit's tables (Altair, drawn in the browser from inline data: nothing is fetched).

Each function takes rows of the result's tables and returns a chart; it
computes nothing but positions. Undefined values (0/0) are left out of the
marks and listed under the chart by the caller, never drawn as 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import altair as alt
import pandas as pd

from audit.spec import INTERSECTION_JOIN

Label = Callable[[str], str]

INK, MUTED, BAD, GOOD, BAND = "#1f2933", "#7b8794", "#c0392b", "#1e8449", "#d5f5e3"
VERDICT_COLOURS = {"pass": GOOD, "fail": BAD, "inconclusive": "#b7950b", "reference": MUTED, "": INK}


def _finite(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    keep = frame[columns].apply(pd.to_numeric, errors="coerce").notna().all(axis=1)
    return frame[keep]


def rate_chart(rows: pd.DataFrame, *, reference: str | None, title: str, value_title: str) -> alt.Chart:
    """Each group's rate as a point with its confidence interval as a bar; the reference group in grey.

    ``rows``: columns ``group``, ``value``, ``ci_low``, ``ci_high``, ``n`` (one metric, one view).
    """
    data = _finite(rows, ["value", "ci_low", "ci_high"]).assign(
        role=lambda f: ["reference" if g == reference else "group" for g in f["group"]])
    base = alt.Chart(data, title=title).encode(y=alt.Y("group:N", sort=None, title=None))
    colour = alt.Color("role:N", scale=alt.Scale(domain=["group", "reference"], range=[INK, MUTED]), legend=None)
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("ci_low:Q", title=value_title, scale=alt.Scale(zero=True)),
                                                x2="ci_high:Q", color=colour)
    points = base.mark_point(filled=True, size=70).encode(
        x="value:Q", color=colour,
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("ci_low:Q", format=".3f"),
                 alt.Tooltip("ci_high:Q", format=".3f"), alt.Tooltip("n:Q", format=",")])
    return (bars + points).properties(height=max(110, 30 * len(data)))


def ratio_chart(rows: pd.DataFrame, *, band: tuple[float | None, float | None], title: str,
                value_title: str) -> alt.LayerChart:
    """Each group's ratio to the reference on a log axis, with its interval, against the policy band.

    ``rows``: columns ``group``, ``ratio``, ``ratio_ci_low``, ``ratio_ci_high``, ``verdict``.
    """
    data = _finite(rows, ["ratio", "ratio_ci_low", "ratio_ci_high"])
    data = data[(data["ratio_ci_low"] > 0) & (data["ratio"] > 0)]
    low = band[0] if band[0] is not None else 0.5
    high = band[1] if band[1] is not None else 2.0
    span = [v for v in [low, high, *data["ratio_ci_low"], *data["ratio_ci_high"]] if v and math.isfinite(v)]
    domain = [min(span) / 1.1, max(span) * 1.1] if span else [0.5, 2.0]
    x = alt.X("ratio:Q", title=value_title, scale=alt.Scale(type="log", domain=domain))
    shade = alt.Chart(pd.DataFrame({"low": [low], "high": [high]})).mark_rect(color=BAND, opacity=0.6).encode(
        x=alt.X("low:Q", scale=alt.Scale(type="log", domain=domain)), x2="high:Q")
    one = alt.Chart(pd.DataFrame({"one": [1.0]})).mark_rule(color=MUTED, strokeDash=[4, 3]).encode(x="one:Q")
    verdicts = list(VERDICT_COLOURS)
    colour = alt.Color("verdict:N", scale=alt.Scale(domain=verdicts, range=[VERDICT_COLOURS[v] for v in verdicts]),
                       legend=None)
    base = alt.Chart(data, title=title).encode(y=alt.Y("group:N", sort=None, title=None))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ratio_ci_low:Q", title=value_title, scale=alt.Scale(type="log", domain=domain)),
        x2="ratio_ci_high:Q", color=colour)
    points = base.mark_point(filled=True, size=70).encode(
        x=x, color=colour, tooltip=[alt.Tooltip("group:N"), alt.Tooltip("ratio:Q", format=".3f"),
                                    alt.Tooltip("ratio_ci_low:Q", format=".3f"),
                                    alt.Tooltip("ratio_ci_high:Q", format=".3f"), alt.Tooltip("verdict:N")])
    return alt.layer(shade, one, bars, points).properties(height=max(110, 30 * len(data)))


def heat_map(rows: pd.DataFrame, *, attribute: str, value: str, title: str, label: Callable[[float], str]) -> alt.Chart:
    """An intersection's groups as a grid (first attribute down, second across), coloured by ``value``.

    Undefined cells are grey and say "undefined"; the text in each cell is ``label(value)``.
    """
    parts = attribute.split(INTERSECTION_JOIN)
    split = rows["group"].str.split(INTERSECTION_JOIN, n=1, expand=True, regex=False)
    data = rows.assign(row=split[0], column=split[1] if split.shape[1] > 1 else "",
                       shown=[label(v) for v in rows[value]], defined=pd.to_numeric(rows[value]).notna())
    base = alt.Chart(data, title=title).encode(
        y=alt.Y("row:N", title=parts[0], sort=None), x=alt.X("column:N", title=parts[-1], sort=None))
    cells = base.mark_rect().encode(
        color=alt.condition("datum.defined", alt.Color(f"{value}:Q", scale=alt.Scale(scheme="redblue", reverse=True,
                                                                                      domainMid=1.0), title=None),
                            alt.value("#e5e8eb")))
    text = base.mark_text(fontSize=12).encode(text="shown:N")
    return (cells + text).properties(height=max(80, 34 * data["row"].nunique()))


def sweep_chart(rows: pd.DataFrame, *, at: float, band: tuple[float | None, float | None], title: str,
                x_title: str, y_title: str) -> alt.LayerChart:
    """A disparity across every cut-off of the sweep, one line per group, with the slider's cut-off marked.

    ``rows``: columns ``threshold``, ``group``, ``ratio`` (one metric, one attribute).
    """
    data = _finite(rows, ["threshold", "ratio"])
    data = data[data["ratio"] > 0]
    lines = alt.Chart(data, title=title).mark_line(point=True).encode(
        x=alt.X("threshold:Q", title=x_title), y=alt.Y("ratio:Q", title=y_title, scale=alt.Scale(type="log")),
        color=alt.Color("group:N", title=None),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("threshold:Q"), alt.Tooltip("ratio:Q", format=".3f")])
    layers: list[alt.Chart] = [lines]
    for edge in band:
        if edge is not None and edge > 0:
            layers.append(alt.Chart(pd.DataFrame({"y": [edge]})).mark_rule(color=GOOD, strokeDash=[4, 3]).encode(
                y="y:Q"))
    layers.append(alt.Chart(pd.DataFrame({"x": [at]})).mark_rule(color=BAD, strokeWidth=2).encode(x="x:Q"))
    return alt.layer(*layers).properties(height=260)


__all__ = ["rate_chart", "ratio_chart", "heat_map", "sweep_chart"]
