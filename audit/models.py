"""Models an oversight body is given: loaded without running untrusted code, and asked for decisions and scores.

Two formats are loaded by default, because loading them cannot run code the
file brings with it:

* **skops** (``.skops``): a scikit-learn estimator or pipeline. Every type the
  file names must be in skops's trusted set (scikit-learn, numpy and scipy
  types); a file naming any other type is refused with the list of those
  types.
* **ONNX** (``.onnx``): a computation graph run by onnxruntime, for example a
  scikit-learn pipeline exported with skl2onnx.

Pickle and joblib files (``.pkl``, ``.pickle``, ``.joblib``) run whatever code
they contain while loading. They are refused unless the person running the
command passes ``--trust-model`` (which also lets a skops file name types
outside the trusted set). The switch exists only on the command line and in
the Python API (``trust=True``), never in a spec or in the app, so a spec
someone sends cannot grant it.

A model answers :meth:`LoadedModel.predict` with each row's predicted class,
the probability of the positive class when the model gives one, and the
decision (the predicted class is the positive one, or the probability is at
least ``model.threshold``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from audit.errors import DataError, ReasonCode, UsageError, did_you_mean
from audit.labels import binary_values, format_label
from audit.readers import file_sha256
from audit.spec import ModelSpec

MODEL_FORMATS: dict[str, str] = {".skops": "skops", ".onnx": "onnx", ".pkl": "pickle", ".pickle": "pickle",
                                 ".joblib": "joblib"}
"""File suffix → format."""

UNSAFE_FORMATS = ("pickle", "joblib")


@dataclass(frozen=True)
class ModelOutput:
    """What a model says about each row, in row order.

    Attributes
    ----------
    labels : numpy.ndarray
        The predicted class of each row.
    scores : numpy.ndarray or None
        Probability of the positive class, in [0, 1] (float64); None for a model without probabilities.
    decisions : numpy.ndarray
        Boolean: the decision is positive (predicted class is ``positive``, or score >= ``threshold``).
    """

    labels: np.ndarray
    scores: np.ndarray | None
    decisions: np.ndarray

    def take(self, positions: np.ndarray) -> "ModelOutput":
        """The output of the rows at ``positions`` only."""
        return ModelOutput(labels=self.labels[positions], decisions=self.decisions[positions],
                           scores=None if self.scores is None else self.scores[positions])


class LoadedModel(ABC):
    """A model read from a file, with what identifies it (format, SHA-256) and the spec's features."""

    def __init__(self, spec: ModelSpec, path: Path, fmt: str, sha256: str) -> None:
        self.spec = spec
        self.path = path
        self.format = fmt
        self.sha256 = sha256

    @property
    def features(self) -> tuple[str, ...]:
        return self.spec.features

    @abstractmethod
    def _predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """(predicted classes, probability of the positive class or None) for the rows of ``features``."""

    def predict(self, frame: pd.DataFrame) -> ModelOutput:
        """Score every row of ``frame`` (which must hold the model's features; other columns are ignored).

        Raises
        ------
        DataError
            A feature column is missing (``COLUMN_NOT_FOUND``); the model fails on the data, returns the wrong
            number of rows, or has no positive class (``MODEL_INVALID``). A model needing a threshold without
            probabilities is refused too.
        """
        self.require_features([str(c) for c in frame.columns])
        try:
            labels, scores = self._predict(self.prepare(frame))
        except (ValueError, TypeError, KeyError, RuntimeError) as error:
            raise DataError(f"model.path: the model '{self.path.name}' failed on the data: "
                            f"{str(error).splitlines()[0] if str(error) else type(error).__name__}; check that "
                            f"model.features lists the columns it was trained on, in order, with the same types",
                            reason=ReasonCode.MODEL_INVALID) from None
        rows = len(frame)
        for name, values in (("predictions", labels), ("probabilities", scores)):
            if values is not None and np.asarray(values).shape != (rows,):
                raise DataError(f"model.path: the model '{self.path.name}' returned {name} of shape "
                                f"{np.asarray(values).shape} for {rows:,} rows; a binary classifier gives one "
                                f"class per row", reason=ReasonCode.MODEL_INVALID)
        if self.spec.threshold is not None:
            if scores is None:
                raise DataError(f"model.threshold: the model '{self.path.name}' gives no probabilities; drop the "
                                f"threshold to use its predicted class", reason=ReasonCode.MODEL_INVALID)
            decisions = scores >= self.spec.threshold
        else:
            decisions = binary_values(pd.Series(labels), (self.spec.positive,)) == 1
        return ModelOutput(labels=labels, scores=scores, decisions=decisions)

    def require_features(self, columns: list[str]) -> None:
        """Raise ``COLUMN_NOT_FOUND`` (naming ``model.features``) when a feature is not among ``columns``."""
        missing = [f for f in self.features if f not in columns]
        if missing:
            raise DataError(f"model.features: column '{missing[0]}' is not in the data"
                            f"{did_you_mean(missing[0], columns)}; list the data's columns the model was trained "
                            f"on, in its order", reason=ReasonCode.COLUMN_NOT_FOUND)

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The feature columns, in order, typed as ``pandas.read_csv`` would type them.

        A CSV or Excel file is read as text (values as written, for the audit's groups), but a model is
        almost always trained on a frame that ``pandas.read_csv`` typed: so a text feature whose every value
        is a number is given to the model as numbers (``"007"`` as 7, as pandas reads it), and other text
        columns as plain Python strings (object dtype; scikit-learn converts an Arrow-backed text column to
        numpy on every transform, and the flip test scores the same rows many times). This is the model's
        input only: the audit's groups keep the text as written. ``frame`` is not modified.
        """
        features = frame.loc[:, list(self.features)]
        text = [c for c in features.columns if isinstance(features[c].dtype, pd.StringDtype)
                or str(features[c].dtype).startswith(("string", "large_string")) or features[c].dtype == object]
        return features.assign(**{c: as_read_csv_would(features[c]) for c in text}) if text else features

    def describe(self) -> dict[str, Any]:
        """Provenance of the model for the result: file, format, SHA-256, features, positive class, threshold."""
        return {"path": self.path.name, "format": self.format, "sha256": self.sha256,
                "features": list(self.features), "positive": self.spec.positive, "threshold": self.spec.threshold}


def _positive_index(classes: list[Any], positive: Any, path: Path) -> int:
    """Index of the positive class among the model's classes, matched by label as everywhere (1 = 1.0 = '1')."""
    for i, c in enumerate(classes):
        if format_label(c) == format_label(positive):
            return i
    raise DataError(f"model.positive: the model '{path.name}' has classes {classes}, not {positive!r}; set "
                    f"model.positive to the class that is the positive decision", reason=ReasonCode.MODEL_INVALID)


class EstimatorModel(LoadedModel):
    """A scikit-learn estimator (from skops, or from pickle/joblib with --trust-model)."""

    def __init__(self, spec: ModelSpec, path: Path, fmt: str, sha256: str, estimator: Any) -> None:
        super().__init__(spec, path, fmt, sha256)
        if not hasattr(estimator, "predict"):
            raise DataError(f"model.path: '{path.name}' holds a {type(estimator).__name__}, which has no predict(); "
                            f"save the fitted classifier or pipeline", reason=ReasonCode.MODEL_INVALID)
        self.estimator = estimator
        classes = getattr(estimator, "classes_", None)
        self._index = (_positive_index(list(classes), spec.positive, path)
                       if classes is not None and hasattr(estimator, "predict_proba") else None)

    def _predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        estimator, inputs = self.estimator, features
        steps = getattr(estimator, "steps", None)
        if steps and self._index is not None and len(steps) > 1:    # transform once for predict and predict_proba
            inputs = estimator[:-1].transform(features)
            estimator = steps[-1][1]
        labels = np.asarray(estimator.predict(inputs))
        if self._index is None:
            return labels, None
        return labels, np.asarray(estimator.predict_proba(inputs), dtype=np.float64)[:, self._index]


_ONNX_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(int64)": np.int64,
               "tensor(int32)": np.int32, "tensor(string)": object, "tensor(bool)": np.bool_}


class OnnxModel(LoadedModel):
    """An ONNX classifier run with onnxruntime: one input per feature (named as the column) or one matrix."""

    def __init__(self, spec: ModelSpec, path: Path, sha256: str, session: Any) -> None:
        super().__init__(spec, path, "onnx", sha256)
        self.session = session
        inputs = session.get_inputs()
        names = [i.name for i in inputs]
        if set(spec.features) <= set(names) and len(names) == len(spec.features):
            self._matrix = None
        elif len(inputs) == 1 and (inputs[0].shape[-1] in (len(spec.features), None) or
                                   isinstance(inputs[0].shape[-1], str)):
            self._matrix = inputs[0]
        else:
            raise DataError(f"model.features: the ONNX model '{path.name}' takes the inputs {names}; list those "
                            f"columns in model.features, or export the model with one input of "
                            f"{len(spec.features)} columns", reason=ReasonCode.MODEL_INVALID)
        self._types = {i.name: _ONNX_TYPES.get(i.type, np.float32) for i in inputs}
        outputs = [o.name for o in session.get_outputs()]
        self._label = "label" if "label" in outputs else outputs[0]
        self._proba = next((o for o in outputs if "prob" in o.lower()), outputs[1] if len(outputs) > 1 else None)

    def _feeds(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        if self._matrix is not None:
            return {self._matrix.name: features.to_numpy(dtype=self._types[self._matrix.name])}
        feeds = {}
        for name in self.features:
            kind = self._types[name]
            column = features[name]
            values = column.astype(str).to_numpy(dtype=object) if kind is object else column.to_numpy(dtype=kind)
            feeds[name] = values.reshape(-1, 1)
        return feeds

    def _predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        wanted = [self._label] + ([self._proba] if self._proba else [])
        out = self.session.run(wanted, self._feeds(features))
        labels = np.asarray(out[0]).reshape(-1)
        if self._proba is None:
            return labels, None
        return labels, self._positive_probability(out[1], labels)

    def _positive_probability(self, raw: Any, labels: np.ndarray) -> np.ndarray:
        if isinstance(raw, list):                       # ZipMap: one {class: probability} per row
            if not raw:
                return np.zeros(0)
            key = _positive_index(list(raw[0]), self.spec.positive, self.path)
            name = list(raw[0])[key]
            return np.array([row[name] for row in raw], dtype=np.float64)
        matrix = np.asarray(raw, dtype=np.float64)
        classes = _column_classes(matrix, labels)
        return matrix[:, _positive_index(classes, self.spec.positive, self.path)]


def _column_classes(matrix: np.ndarray, labels: np.ndarray) -> list[Any]:
    """The class of each probability column, read off the rows: the predicted class is the most probable one.

    ONNX classifiers give probabilities in the order of their class list; the
    list itself is in the graph, not in onnxruntime's interface. A column that
    is never the most probable takes the class not seen elsewhere (binary), or
    the column's index.
    """
    classes: list[Any] = [None] * matrix.shape[1]
    if len(labels):
        best = matrix.argmax(axis=1)
        for column in range(matrix.shape[1]):
            seen = labels[best == column]
            if len(seen):
                classes[column] = seen[0].item() if hasattr(seen[0], "item") else seen[0]
    unseen = [c for c in dict.fromkeys(labels.tolist()) if c not in classes]
    for column in range(matrix.shape[1]):
        if classes[column] is None:
            classes[column] = unseen.pop(0) if unseen else (0 if column == 0 and 1 in classes else column)
    return classes


def _refuse_unsafe(path: Path, fmt: str) -> UsageError:
    return UsageError(
        f"model.path: '{path.name}' is a {fmt} file, and loading a {fmt} file runs whatever code it contains, so "
        f"a model from someone else could take over this machine. Ask for the model saved with skops "
        f"(skops.io.dump) or exported to ONNX; only if you made the file yourself or fully trust where it came "
        f"from, pass --trust-model on the command line", reason=ReasonCode.MODEL_REFUSED)


def load_model(spec: ModelSpec, base_dir: Path, *, trust: bool = False) -> LoadedModel:
    """Load the spec's model safely.

    Parameters
    ----------
    spec : ModelSpec
        ``model:`` of the audit spec; ``path`` is taken relative to ``base_dir``.
    base_dir : Path
        The spec's folder.
    trust : bool
        ``--trust-model``: allow pickle and joblib files, and skops files naming types outside the trusted set.
        Only the person running the command may set it, never a spec.

    Raises
    ------
    UsageError
        ``MODEL_REFUSED``: a pickle or joblib file, or a skops file with untrusted types, without ``trust``;
        ``UNSUPPORTED_DATA``: an unknown suffix, or skops/onnxruntime not installed.
    DataError
        ``DATA_NOT_FOUND``: no such file; ``MODEL_INVALID``: the file cannot be read as its format says.
    """
    path = Path(spec.path) if Path(spec.path).is_absolute() else base_dir / spec.path
    fmt = MODEL_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(f"model.path: '{path.name}' is not a model file this toolkit reads; save a scikit-learn "
                         f"pipeline with skops (.skops) or export it to ONNX (.onnx)",
                         reason=ReasonCode.UNSUPPORTED_DATA)
    if not path.is_file():
        raise DataError(f"model.path: model file '{path}' not found; the path is taken relative to the spec's "
                        f"folder", reason=ReasonCode.DATA_NOT_FOUND)
    if fmt in UNSAFE_FORMATS and not trust:
        raise _refuse_unsafe(path, fmt)
    sha256 = file_sha256(path)
    if fmt == "onnx":
        return OnnxModel(spec, path, sha256, _onnx_session(path))
    return EstimatorModel(spec, path, fmt, sha256, _load_estimator(path, fmt, trust=trust))


def _load_estimator(path: Path, fmt: str, *, trust: bool) -> Any:
    if fmt == "skops":
        try:
            import skops.io as sio
        except ImportError:
            raise UsageError("model.path: reading a .skops model needs skops; install it with "
                             "pip install 'audit-toolkit[models]'", reason=ReasonCode.UNSUPPORTED_DATA) from None
        try:
            untrusted = sio.get_untrusted_types(file=path)
        except Exception as error:  # skops raises many kinds on a damaged file
            raise DataError(f"model.path: '{path.name}' is not a readable skops file: {error}",
                            reason=ReasonCode.MODEL_INVALID) from None
        if untrusted and not trust:
            raise UsageError(f"model.path: '{path.name}' names types outside skops's trusted set: "
                             f"{', '.join(untrusted)}. Loading them could run their code. Check where they come "
                             f"from; if you trust them, pass --trust-model on the command line",
                             reason=ReasonCode.MODEL_REFUSED)
        try:
            return sio.load(path, trusted=untrusted or None)
        except Exception as error:
            raise DataError(f"model.path: could not load '{path.name}' with skops: {error}",
                            reason=ReasonCode.MODEL_INVALID) from None
    import joblib                                   # comes with scikit-learn; pickle files load with it too
    try:
        return joblib.load(path)
    except Exception as error:
        raise DataError(f"model.path: could not load '{path.name}' as a {fmt} file: {error}",
                        reason=ReasonCode.MODEL_INVALID) from None


def as_read_csv_would(column: pd.Series) -> pd.Series:
    """A text column as numbers when every value is one (as ``pandas.read_csv`` infers), else as Python
    strings (object dtype); a column that is not all text is returned as it is."""
    values = column.astype(object)
    present = values[values.notna()]
    if not len(present) or not all(isinstance(v, str) for v in present):
        return column
    try:
        return pd.to_numeric(values, errors="raise")
    except (ValueError, TypeError):
        return values


def _onnx_session(path: Path) -> Any:
    try:
        import onnxruntime as ort
    except ImportError:
        raise UsageError("model.path: running an .onnx model needs onnxruntime; install it with "
                         "pip install 'audit-toolkit[models]'", reason=ReasonCode.UNSUPPORTED_DATA) from None
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:
        raise DataError(f"model.path: '{path.name}' is not a valid ONNX model: {str(error).splitlines()[0]}",
                        reason=ReasonCode.MODEL_INVALID) from None
