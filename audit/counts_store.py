"""Lossless storage of the counts of one audit (:class:`~audit.counts.RawCounts`) as bytes.

The counts are everything the engine derives an audit from (see "How the
numbers are made" in the README), so storing them lets an audit be reopened
and derived again without the rows it was counted from, which are never
stored. The bytes are a zip archive holding:

* ``metadata.json``: the format name and version, the protected columns'
  levels, the label values, each histogram's :class:`~audit.counts.Binning`,
  the amount columns, ``rows_read`` and the engine, and the names of the arrays;
* one ``.npy`` file per array (``rows``, ``weights``, ``weights_sq``, the score
  histogram and its sums, each amount's histogram and sums), written and read
  with ``allow_pickle=False``: an archive never runs code when it is loaded.

The archive is deterministic: the same counts always give the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from audit.counts import AmountCounts, Binning, Histogram, RawCounts
from audit.errors import DataError, ReasonCode, UsageError

__all__ = ["COUNTS_FORMAT", "COUNTS_FORMAT_VERSION", "dump_counts", "load_counts"]

COUNTS_FORMAT = "audit-toolkit raw counts"
COUNTS_FORMAT_VERSION = 1
_METADATA = "metadata.json"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry no wall-clock time, so equal counts give equal bytes
_AMOUNT_ARRAYS = ("rows", "weights", "weights_sq", "sum_wx", "sum_wx2")


@dataclass(frozen=True)
class _Archive:
    """Arrays by member name, being written or read."""

    arrays: dict[str, np.ndarray]

    def put(self, name: str, array: np.ndarray | None) -> str | None:
        if array is None:
            return None
        self.arrays[name] = array
        return name

    def take(self, name: str | None) -> np.ndarray | None:
        if name is None:
            return None
        if name not in self.arrays:
            raise _corrupt(f"the array '{name}' named in its metadata is missing")
        return self.arrays[name]


def _corrupt(what: str) -> DataError:
    return DataError(f"stored counts cannot be read: {what}. The blob is damaged or was not written by "
                     f"audit.counts_store.dump_counts; run the audit again to count the data afresh",
                     reason=ReasonCode.DATA_UNREADABLE)


def _histogram_meta(histogram: Histogram, prefix: str, archive: _Archive) -> dict[str, Any]:
    return {"values": archive.put(f"{prefix}values", histogram.values), "exact": histogram.exact,
            "binning": asdict(histogram.binning)}


def _histogram(meta: dict[str, Any], archive: _Archive) -> Histogram:
    binning = dict(meta["binning"])
    binning["splits"] = tuple(binning["splits"])
    return Histogram(values=archive.take(meta["values"]), exact=bool(meta["exact"]), binning=Binning(**binning))


def dump_counts(raw: RawCounts) -> bytes:
    """The counts as bytes: a zip of ``.npy`` arrays and a JSON document (no pickle).

    Parameters
    ----------
    raw : RawCounts
        Counts as :func:`audit.sources.count_source` returns them. Not modified.

    Returns
    -------
    bytes
        A zip archive that :func:`load_counts` turns back into equal counts:
        every array with the same dtype, shape and values (bit for bit), and
        equal levels, labels, binnings, ``rows_read`` and engine. The same
        counts always give the same bytes.

    Raises
    ------
    UsageError
        If ``raw`` is not a :class:`~audit.counts.RawCounts`, or one of its
        arrays holds Python objects (only numeric arrays can be stored).

    Examples
    --------
    >>> blob = dump_counts(raw)                       # doctest: +SKIP
    >>> load_counts(blob).rows.sum() == raw.rows.sum()  # doctest: +SKIP
    True
    """
    if not isinstance(raw, RawCounts):
        raise UsageError(f"dump_counts needs the RawCounts of an audit (from audit.sources.count_source); "
                         f"got {type(raw).__name__}", reason=ReasonCode.OPTION_INVALID)
    archive = _Archive({})
    metadata = {
        "format": COUNTS_FORMAT, "format_version": COUNTS_FORMAT_VERSION,
        "levels": [list(level) for level in raw.levels], "label_values": [list(v) for v in raw.label_values],
        "rows": archive.put("rows", raw.rows), "weights": archive.put("weights", raw.weights),
        "weights_sq": archive.put("weights_sq", raw.weights_sq),
        "score": _histogram_meta(raw.score, "score_", archive) if raw.score is not None else None,
        "score_sum": archive.put("score_sum", raw.score_sum), "score_sq": archive.put("score_sq", raw.score_sq),
        "amounts": [{"column": amount.column, "histogram": _histogram_meta(amount.histogram, f"amount{j}_", archive),
                     **{name: archive.put(f"amount{j}_{name}", getattr(amount, name)) for name in _AMOUNT_ARRAYS}}
                    for j, amount in enumerate(raw.amounts)],
        "rows_read": int(raw.rows_read), "engine": raw.engine,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        _write(zipped, _METADATA, json.dumps(metadata, sort_keys=True).encode("utf-8"))
        for name, array in archive.arrays.items():
            member = io.BytesIO()
            try:
                np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            except ValueError:
                raise UsageError(f"dump_counts: the array '{name}' holds Python objects (dtype "
                                 f"{np.asarray(array).dtype}); counts must be numeric arrays",
                                 reason=ReasonCode.OPTION_INVALID) from None
            _write(zipped, f"{name}.npy", member.getvalue())
    return buffer.getvalue()


def _write(zipped: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    zipped.writestr(info, data)


def load_counts(blob: bytes) -> RawCounts:
    """Counts back from the bytes of :func:`dump_counts`.

    Parameters
    ----------
    blob : bytes
        An archive written by :func:`dump_counts` (of this format version).

    Returns
    -------
    RawCounts
        Counts equal to the ones dumped, array for array (dtype and bits).
        The arrays are new and writable; the blob is not modified.

    Raises
    ------
    DataError
        If the blob is not such an archive, is damaged, or was written in
        another format version (the message says which version arrived and
        which this toolkit reads). Arrays are read with ``allow_pickle=False``,
        so an archive holding pickled objects is refused, never run.
    """
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise UsageError(f"load_counts needs the bytes written by dump_counts; got {type(blob).__name__}",
                         reason=ReasonCode.OPTION_INVALID)
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(blob))) as zipped:
            names = set(zipped.namelist())
            if _METADATA not in names:
                raise _corrupt(f"it has no {_METADATA}")
            metadata = json.loads(zipped.read(_METADATA).decode("utf-8"))
            _check_version(metadata)
            arrays = {}
            for name in sorted(names - {_METADATA}):
                with zipped.open(name) as member:
                    arrays[name.removesuffix(".npy")] = np.lib.format.read_array(member, allow_pickle=False)
    except DataError:
        raise
    except zipfile.BadZipFile as error:
        raise _corrupt(f"it is not a zip archive ({error})") from None
    except (ValueError, OSError, EOFError) as error:  # bad JSON or UTF-8, a bad .npy header, pickled objects
        raise _corrupt(f"{type(error).__name__}: {error}") from None
    try:
        return _counts(metadata, _Archive(arrays))
    except (KeyError, TypeError) as error:
        raise _corrupt(f"its metadata lacks or mistypes the field {error}") from None


def _check_version(metadata: Any) -> None:
    if not isinstance(metadata, dict) or metadata.get("format") != COUNTS_FORMAT:
        got = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise _corrupt(f"its metadata names the format {got!r}, not {COUNTS_FORMAT!r}")
    version = metadata.get("format_version")
    if version != COUNTS_FORMAT_VERSION:
        raise DataError(f"stored counts are in format version {version!r}, but this toolkit reads version "
                        f"{COUNTS_FORMAT_VERSION} only; open them with the toolkit version that saved them, or run "
                        f"the audit again", reason=ReasonCode.DATA_UNREADABLE)


def _counts(metadata: dict[str, Any], archive: _Archive) -> RawCounts:
    amounts = tuple(
        AmountCounts(column=str(meta["column"]), histogram=_histogram(meta["histogram"], archive),
                     **{name: archive.take(meta[name]) for name in _AMOUNT_ARRAYS})
        for meta in metadata["amounts"])
    return RawCounts(
        levels=tuple(tuple(str(v) for v in level) for level in metadata["levels"]),
        label_values=tuple(tuple(str(v) for v in values) for values in metadata["label_values"]),
        score=_histogram(metadata["score"], archive) if metadata["score"] is not None else None,
        rows=archive.take(metadata["rows"]), weights=archive.take(metadata["weights"]),
        weights_sq=archive.take(metadata["weights_sq"]), score_sum=archive.take(metadata["score_sum"]),
        score_sq=archive.take(metadata["score_sq"]), amounts=amounts, rows_read=int(metadata["rows_read"]),
        engine=str(metadata["engine"]))
