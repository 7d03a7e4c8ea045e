"""Stored counts come back bit for bit, derive the same audit, and a foreign blob is refused."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import beyond
from audit.counts import RawCounts
from audit.counts_store import COUNTS_FORMAT_VERSION, dump_counts, load_counts
from audit.errors import DataError, UsageError
from audit.findings import derive
from audit.sources import count_source, plan_for
from audit.spec import load_spec
from conftest import BASE_SPEC, EXAMPLES, synthetic


def _continuous(n: int = 12_000, seed: int = 3) -> pd.DataFrame:
    """More than 10,000 distinct scores and amounts, so both are counted in bins."""
    rows = beyond.make_rows(n, seed=seed)
    rng = np.random.default_rng(seed)
    return rows.assign(continuous=rows["probability"] + rng.normal(0, 0.01, n),
                       paid=rng.gamma(2.0, 500.0, n))


def _synthetic_cases() -> dict[str, tuple[dict, pd.DataFrame]]:
    score = beyond.spec(outcome={"column": "outcome", "positive": 1},
                        score={"column": "continuous", "threshold": [0.5, {"top_k": 300}], "adverse": True,
                               "probability": False},
                        policy=[{"metric": "selection_rate", "ratio": [0.8, 1.25]},
                                {"metric": "auc", "difference": [-0.05, 0.05]}])
    amounts_and_tiers = beyond.spec(
        decision={"column": "tier", "tiers": {"values": beyond.TIERS, "ordered": True}},
        amounts=[{"column": "days", "higher_is": "adverse", "quantiles": [0.5, 0.9]},
                 {"column": "paid", "higher_is": "favourable"}],
        policy=[{"metric": "tier_rate:blacklist", "ratio": [0.8, 1.25]},
                {"metric": "mean:paid", "ratio": [0.9, 1.1]}])
    selective = beyond.spec(outcome={"column": "outcome", "positive": 1,
                                     "checked": {"column": "investigated", "positive": "yes"}},
                            decision={"column": "recommendation", "positive": "flag", "adverse": True},
                            final_decision={"column": "final"},
                            policy=[{"metric": "fpr", "ratio": [0.8, 1.25]}])
    continuous = _continuous()
    return {"binned score": (score, continuous), "amounts and tiers": (amounts_and_tiers, continuous),
            "selective labels and overrides": (selective, beyond.make_rows()),
            "weighted": (dict(BASE_SPEC, data={"weight": "w"}), synthetic())}


CASES = {path.parent.name: (path, None) for path in sorted(EXAMPLES.glob("*/spec.yaml"))} | _synthetic_cases()


@pytest.fixture(scope="module", params=sorted(CASES))
def counted(request: pytest.FixtureRequest) -> tuple[object, RawCounts]:
    spec_source, data = CASES[request.param]
    spec, base = load_spec(spec_source)
    if spec.model is not None:                           # the model fills the decision column first
        from audit.model_audit import score_rows

        data = score_rows(spec, base).data
    raw, _ = count_source(spec, base if isinstance(spec_source, Path) else Path("."), data)
    return spec, raw


def assert_counts_identical(got: RawCounts, expected: RawCounts) -> None:
    """Equal arrays (values and dtype, bit for bit) and equal metadata."""
    def same(a: np.ndarray | None, b: np.ndarray | None, name: str) -> None:
        assert (a is None) == (b is None), name
        if a is not None:
            assert a.dtype == b.dtype and a.shape == b.shape, name
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
            assert a.tobytes() == b.tobytes(), name

    assert got.levels == expected.levels and got.label_values == expected.label_values
    assert (got.rows_read, got.engine) == (expected.rows_read, expected.engine)
    for name in ("rows", "weights", "weights_sq", "score_sum", "score_sq"):
        same(getattr(got, name), getattr(expected, name), name)
    assert (got.score is None) == (expected.score is None)
    if got.score is not None:
        assert got.score.exact == expected.score.exact and got.score.binning == expected.score.binning
        same(got.score.values, expected.score.values, "score.values")
    assert len(got.amounts) == len(expected.amounts)
    for a, b in zip(got.amounts, expected.amounts):
        assert a.column == b.column and a.histogram.binning == b.histogram.binning
        assert a.histogram.exact == b.histogram.exact
        for name in ("rows", "weights", "weights_sq", "sum_wx", "sum_wx2"):
            same(getattr(a, name), getattr(b, name), f"{a.column}.{name}")
        same(a.histogram.values, b.histogram.values, f"{a.column}.values")


def test_round_trip_is_bit_for_bit(counted) -> None:
    _, raw = counted
    blob = dump_counts(raw)
    assert_counts_identical(load_counts(blob), raw)
    assert dump_counts(raw) == blob  # deterministic: equal counts, equal bytes


def test_stored_counts_derive_the_same_audit(counted) -> None:
    spec, raw = counted
    roles = plan_for(spec).roles
    expected = derive(spec, raw, roles, source="x")
    got = derive(spec, load_counts(dump_counts(raw)), roles, source="x")
    for name in ("groups", "comparisons", "verdicts", "spread"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), check_exact=True, obj=name)
    assert got.tables.keys() == expected.tables.keys()
    for name in expected.tables:
        pd.testing.assert_frame_equal(got.tables[name], expected.tables[name], check_exact=True, obj=name)
    assert got.notes == expected.notes and got.rows_used == expected.rows_used


def test_the_synthetic_cases_cover_binned_scores_and_amounts() -> None:
    spec, _ = CASES["binned score"]
    raw, _ = count_source(load_spec(spec)[0], Path("."), _continuous())
    assert raw.score is not None and not raw.score.exact and raw.score_sum is not None
    spec, _ = CASES["amounts and tiers"]
    raw, _ = count_source(load_spec(spec)[0], Path("."), _continuous())
    assert [a.histogram.exact for a in raw.amounts] == [True, False]


def test_loading_never_changes_the_blob_or_the_counts() -> None:
    spec, base = load_spec(EXAMPLES / "compas_truth_tables" / "spec.yaml")
    raw, _ = count_source(spec, base)
    before = raw.rows.copy()
    blob = dump_counts(raw)
    copy = bytes(blob)
    loaded = load_counts(blob)
    loaded.rows[...] = 0  # the loaded arrays are the caller's own
    assert blob == copy and np.array_equal(raw.rows, before)


def _rewrite(blob: bytes, member: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, data if name == member else source.read(name))
    return out.getvalue()


@pytest.fixture(scope="module")
def blob() -> bytes:
    spec, base = load_spec(EXAMPLES / "compas_truth_tables" / "spec.yaml")
    return dump_counts(count_source(spec, base)[0])


def test_another_format_version_is_refused(blob: bytes) -> None:
    metadata = json.loads(zipfile.ZipFile(io.BytesIO(blob)).read("metadata.json"))
    metadata["format_version"] = COUNTS_FORMAT_VERSION + 1
    with pytest.raises(DataError, match=rf"format version {COUNTS_FORMAT_VERSION + 1}.*reads version "
                                        rf"{COUNTS_FORMAT_VERSION} only"):
        load_counts(_rewrite(blob, "metadata.json", json.dumps(metadata).encode()))


def test_pickled_arrays_are_refused_not_run(blob: bytes) -> None:
    member = io.BytesIO()
    np.save(member, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="cannot be read.*Object arrays cannot be loaded"):
        load_counts(_rewrite(blob, "rows.npy", member.getvalue()))


@pytest.mark.parametrize("damage, message", [
    (lambda b: b"not a zip at all", "not a zip archive"),
    (lambda b: _rewrite(b, "metadata.json", b"{"), "JSONDecodeError"),
    (lambda b: _rewrite(b, "metadata.json", b'{"format": "something else"}'), "names the format 'something else'"),
])
def test_damaged_blobs_are_refused(blob: bytes, damage, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_counts(damage(blob))


def test_wrong_types_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="needs the RawCounts"):
        dump_counts({"rows": [1, 2]})  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="needs the bytes"):
        load_counts("text")  # type: ignore[arg-type]
