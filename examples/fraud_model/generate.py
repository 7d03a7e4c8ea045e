"""Generate the synthetic Havenburg fraud-model audit: an evaluation sample, training data and the model itself.

Everything in this file is invented. "Gemeente Havenburg" is the fictional
Dutch municipality of ``../welfare_investigations``. The data imitate what an
oversight body receives when a city hands over its welfare-fraud model as a
file, in the style of Rotterdam's model (2017-2021; trained on about 12,700
past investigations whose labels were about 50% fraud) and Amsterdam's "Slimme
Check" (2023):

* ``training.csv``: 12,000 past fraud investigations (2019-2025). Their label,
  ``fraud_found``, is what the fraud team *recorded*. Past investigations were
  chosen on tips and suspicion, so they record fraud far more often than it
  occurs among recipients (51% against 8%), and they recorded it more
  readily for recipients whose language at home is not Dutch and in the two
  districts where enforcement campaigns ran (Havendijk and Kaaipark).
* ``model.skops`` and ``model.onnx``: the city's model, a scikit-learn
  pipeline (one-hot encoding of language at home, district and household
  type; scaling of months on benefit, age and data-matching signals; logistic
  regression) fitted on ``training.csv``. It learns the recording bias as if
  it were fraud.
* ``evaluation.csv``: a random evaluation sample: the 12,000 recipients whose
  regular re-examination of entitlement fell between July 2025 and June 2026
  (the order of re-examinations is drawn by lot), each re-examined whatever
  any model says, so ``fraud_found`` (the truth) is known for every row.
  Unlawful payment is equally common in every nationality and sex: 8%. The
  file holds the model's inputs and the protected attributes, but no
  decision: the audit lets the model fill it.

README.md beside this file documents every planted fact and the audit's
findings.

Run ``python generate.py`` to (re)write the four files beside this script, or
import :func:`generate` (the evaluation sample) and :func:`generate_training`
(the training data) to get the same rows as DataFrames.

Only ``numpy.random.default_rng(seed)`` and its ``.random()`` and
``.integers()`` methods are used; categorical draws come from cumulative
probabilities on ``.random()`` and normal draws from the Box-Muller transform,
so the output does not depend on numpy's higher-level samplers, whose streams
numpy does not promise to keep stable.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from audit.synthetic import draw, draw_given, standard_normal

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

FOLDER = Path(__file__).resolve().parent
EVALUATION_FILE = FOLDER / "evaluation.csv"
TRAINING_FILE = FOLDER / "training.csv"
SKOPS_FILE = FOLDER / "model.skops"
ONNX_FILE = FOLDER / "model.onnx"

DEFAULT_N = 12_000
DEFAULT_SEED = 20260511
TRAINING_N = 12_000
TRAINING_SEED = 20190301

SEX = ("female", "male")
SEX_P = (0.54, 0.46)

# Age bands of recipients (18 to the state-pension age) and their shares.
AGE_BANDS = {"18-26": (18, 26), "27-35": (27, 35), "36-45": (36, 45), "46-55": (46, 55), "56-66": (56, 66)}
AGE_P = (0.14, 0.21, 0.24, 0.23, 0.18)

NATIONALITIES = ("Dutch", "Moroccan", "Turkish", "Surinamese", "Syrian", "Polish", "Other EU", "Other")
NATIONALITY_P = (0.60, 0.09, 0.08, 0.06, 0.05, 0.03, 0.03, 0.06)

LANGUAGES = ("Dutch", "Arabic", "Tamazight", "Turkish", "Polish", "English", "other")
# P(language spoken at home | nationality); columns follow LANGUAGES.
LANGUAGE_P: dict[str, tuple[float, ...]] = {
    "Dutch": (0.90, 0.02, 0.01, 0.02, 0.00, 0.01, 0.04),
    "Moroccan": (0.25, 0.40, 0.30, 0.00, 0.00, 0.00, 0.05),
    "Turkish": (0.25, 0.00, 0.00, 0.70, 0.00, 0.00, 0.05),
    "Surinamese": (0.92, 0.00, 0.00, 0.00, 0.00, 0.02, 0.06),
    "Syrian": (0.05, 0.85, 0.00, 0.00, 0.00, 0.00, 0.10),
    "Polish": (0.10, 0.00, 0.00, 0.00, 0.80, 0.10, 0.00),
    "Other EU": (0.10, 0.00, 0.00, 0.00, 0.00, 0.40, 0.50),
    "Other": (0.15, 0.10, 0.00, 0.00, 0.00, 0.25, 0.50),
}

DISTRICTS = ("Havendijk", "Kaaipark", "Oud-Noord", "Lindenhof", "Vlietzoom", "Duinrand")
CAMPAIGN_DISTRICTS = ("Havendijk", "Kaaipark")  # where past enforcement campaigns ran
# P(district | nationality); columns follow DISTRICTS.
DISTRICT_P: dict[str, tuple[float, ...]] = {
    "Dutch": (0.04, 0.04, 0.22, 0.22, 0.23, 0.25),
    "Moroccan": (0.30, 0.50, 0.06, 0.06, 0.05, 0.03),
    "Turkish": (0.55, 0.25, 0.06, 0.06, 0.05, 0.03),
    "Surinamese": (0.07, 0.07, 0.12, 0.50, 0.14, 0.10),
    "Syrian": (0.35, 0.50, 0.05, 0.04, 0.04, 0.02),
    "Polish": (0.30, 0.20, 0.35, 0.05, 0.05, 0.05),
    "Other EU": (0.25, 0.20, 0.25, 0.10, 0.10, 0.10),
    "Other": (0.35, 0.35, 0.10, 0.08, 0.07, 0.05),
}

HOUSEHOLD_TYPES = ("single", "single parent", "couple", "couple with children")
# Single parents on social assistance are mostly women. Household type has no bearing on fraud.
HOUSEHOLD_P = {"female": (0.44, 0.32, 0.08, 0.16), "male": (0.70, 0.04, 0.10, 0.16)}

LONG_SPELL_P = 0.45  # months on benefit: a mix of short spells (1-24) and long ones (1-120)

# Signals from the national data matching in the past 12 months (income, vehicle or address registered
# elsewhere): 0-4, the same distribution for everyone.
HITS = (0, 1, 2, 3, 4)
HITS_P = (0.78, 0.14, 0.05, 0.02, 0.01)

# Ground truth: the logit of unlawful payment. Only data-matching signals and the length of the spell matter;
# with both independent of nationality and sex, the rate is the same 8% in every group.
FRAUD_INTERCEPT = -3.75
FRAUD_HITS_EFFECT = 1.40   # per data-matching signal
FRAUD_YEARS_EFFECT = 0.10  # per year on benefit

# Past investigations (training.csv): which recipients were investigated, and what was recorded.
SELECTION_HITS = 0.70      # log-weight of being investigated, per data-matching signal
SELECTION_CAMPAIGN = 0.80  # ... for living in a campaign district
SELECTION_LANGUAGE = 0.50  # ... for speaking another language than Dutch at home
SELECTION_OFFSET = 2.50    # P(investigated) = min(1, exp(log-weight - offset))
POOL_FACTOR = 8            # recipients drawn per investigation wanted (about 20% are investigated)
RECORD_UPLIFT = 1.20       # investigated cases were chosen on tips and suspicion: higher odds of a finding
RECORD_LANGUAGE_BIAS = 1.40  # recorded more readily when the language at home is not Dutch
RECORD_CAMPAIGN_BIAS = 0.90  # ... and in the campaign districts
FIRST_YEAR, LAST_YEAR = 2019, 2025

AMOUNT_MEDIAN_EUR = 4_200.0  # unlawful payment recovered, log-normal
AMOUNT_LOG_SD = 0.8

NUMERIC_FEATURES = ("months_on_benefit", "age", "data_match_hits")
CATEGORICAL_FEATURES = ("language_at_home", "district", "household_type")
FEATURES = ("language_at_home", "district", "household_type", "months_on_benefit", "age", "data_match_hits")
CATEGORIES = {"language_at_home": LANGUAGES, "district": DISTRICTS, "household_type": HOUSEHOLD_TYPES}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function: log-odds to probability."""
    return 1.0 / (1.0 + np.exp(-x))


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Age in whole years (a band drawn by its share, then uniform within the band)."""
    band = draw(rng, tuple(AGE_BANDS), AGE_P, n)
    low = np.array([AGE_BANDS[b][0] for b in band])
    high = np.array([AGE_BANDS[b][1] for b in band])
    return rng.integers(low, high + 1).astype(np.int64)


def _months_on_benefit(rng: np.random.Generator, n: int) -> np.ndarray:
    """Length of the current benefit spell in months (1-120)."""
    long_spell = rng.random(n) < LONG_SPELL_P
    short, long_ = rng.integers(1, 25, size=n), rng.integers(1, 121, size=n)
    return np.where(long_spell, long_, short).astype(np.int64)


def recipients(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """``n`` recipients drawn from Havenburg's population: protected attributes and the model's inputs."""
    sex = draw(rng, SEX, SEX_P, n)
    age = _ages(rng, n)
    nationality = draw(rng, NATIONALITIES, NATIONALITY_P, n)
    language = draw_given(rng.random(len(nationality)), nationality, LANGUAGE_P, LANGUAGES)
    district = draw_given(rng.random(len(nationality)), nationality, DISTRICT_P, DISTRICTS)
    household = draw_given(rng.random(len(sex)), sex, HOUSEHOLD_P, HOUSEHOLD_TYPES)
    months = _months_on_benefit(rng, n)
    hits = draw(rng, HITS, HITS_P, n).astype(np.int64)
    return pd.DataFrame({"sex": sex, "age": age, "nationality": nationality, "language_at_home": language,
                         "district": district, "household_type": household, "months_on_benefit": months,
                         "data_match_hits": hits})


def fraud_logit(people: pd.DataFrame) -> np.ndarray:
    """Log-odds of unlawful payment: data-matching signals and years on benefit; nothing else."""
    return (FRAUD_INTERCEPT + FRAUD_HITS_EFFECT * people["data_match_hits"].to_numpy()
            + FRAUD_YEARS_EFFECT * people["months_on_benefit"].to_numpy() / 12.0)


def recording_shift(people: pd.DataFrame) -> np.ndarray:
    """How much higher past investigations put the log-odds of a *recorded* finding than the truth."""
    other_language = (people["language_at_home"] != "Dutch").to_numpy()
    campaign = people["district"].isin(CAMPAIGN_DISTRICTS).to_numpy()
    return RECORD_UPLIFT + RECORD_LANGUAGE_BIAS * other_language + RECORD_CAMPAIGN_BIAS * campaign


def _amounts(rng: np.random.Generator, fraud: np.ndarray) -> pd.array:
    """Unlawful payment recovered in euros (log-normal) where fraud was found, else missing."""
    euros = np.round(AMOUNT_MEDIAN_EUR * np.exp(AMOUNT_LOG_SD * standard_normal(rng, len(fraud))))
    amounts = pd.array(euros.astype(np.int64), dtype="Int64")
    amounts[~fraud] = pd.NA
    return amounts


def generate(seed: int = DEFAULT_SEED, n: int = DEFAULT_N) -> pd.DataFrame:
    """Return the random evaluation sample: ``n`` recipients re-examined whatever the model says.

    Parameters
    ----------
    seed : int
        Seed for ``numpy.random.default_rng``; the shipped ``evaluation.csv`` uses the default.
    n : int
        Number of recipients (rows).

    Returns
    -------
    pandas.DataFrame
        Columns ``recipient_id``, ``sex``, ``age``, ``nationality``, the model's inputs
        (``language_at_home``, ``district``, ``household_type``, ``months_on_benefit``, ``data_match_hits``),
        ``fraud_found`` (1/0, known for every row) and ``amount_recovered`` (euros, missing unless fraud was
        found). No decision or score: the audit lets the model fill it.
    """
    rng = np.random.default_rng(seed)
    people = recipients(rng, n)
    fraud = rng.random(n) < _sigmoid(fraud_logit(people))
    frame = pd.DataFrame({"recipient_id": [f"HE{i:05d}" for i in range(1, n + 1)]})
    frame = pd.concat([frame, people], axis=1)
    frame["fraud_found"] = fraud.astype(np.int64)
    frame["amount_recovered"] = _amounts(rng, fraud)
    return frame


def generate_training(seed: int = TRAINING_SEED, n: int = TRAINING_N) -> pd.DataFrame:
    """Return ``n`` past fraud investigations with the finding the fraud team recorded.

    Recipients are drawn from the same population as the evaluation sample and investigated with a
    probability that rises with data-matching signals, residence in a campaign district and a language at
    home other than Dutch. The recorded finding has the log-odds of the truth plus :func:`recording_shift`.

    Parameters
    ----------
    seed : int
        Seed for ``numpy.random.default_rng``; the shipped ``training.csv`` uses the default.
    n : int
        Number of investigations (rows).

    Returns
    -------
    pandas.DataFrame
        Columns ``case_id``, ``investigation_year``, ``sex``, ``age``, ``nationality``, the model's inputs
        and ``fraud_found`` (1 = the investigation recorded unlawful payment).
    """
    rng = np.random.default_rng(seed)
    pool = recipients(rng, POOL_FACTOR * n)
    log_weight = (SELECTION_HITS * pool["data_match_hits"].to_numpy()
                  + SELECTION_CAMPAIGN * pool["district"].isin(CAMPAIGN_DISTRICTS).to_numpy()
                  + SELECTION_LANGUAGE * (pool["language_at_home"] != "Dutch").to_numpy())
    accept = rng.random(len(pool)) < np.minimum(1.0, np.exp(log_weight - SELECTION_OFFSET))
    chosen = np.flatnonzero(accept)
    if len(chosen) < n:
        raise RuntimeError(f"only {len(chosen)} investigations drawn; enlarge the pool")
    cases = pool.iloc[chosen[:n]].reset_index(drop=True)
    recorded = rng.random(n) < _sigmoid(fraud_logit(cases) + recording_shift(cases))
    year = rng.integers(FIRST_YEAR, LAST_YEAR + 1, size=n)
    frame = pd.DataFrame({"case_id": [f"HC{i:05d}" for i in range(1, n + 1)], "investigation_year": year})
    frame = pd.concat([frame, cases], axis=1)
    frame["fraud_found"] = recorded.astype(np.int64)
    return frame


def train_model(training: pd.DataFrame) -> "Pipeline":
    """The city's model: one-hot + scaling + logistic regression, fitted on the recorded findings."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = OneHotEncoder(categories=[list(CATEGORIES[c]) for c in CATEGORICAL_FEATURES], handle_unknown="ignore")
    prepare = ColumnTransformer([("categories", encode, list(CATEGORICAL_FEATURES)),
                                 ("numbers", StandardScaler(), list(NUMERIC_FEATURES))])
    pipeline = Pipeline([("prepare", prepare), ("logisticregression", LogisticRegression(max_iter=1000))])
    return pipeline.fit(training[list(FEATURES)], training["fraud_found"])


def save_onnx(pipeline: "Pipeline", path: Path) -> Path:
    """Export the pipeline to ONNX: one input per feature (text as strings, numbers as floats), no ZipMap."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    types = [(f, StringTensorType([None, 1]) if f in CATEGORIES else FloatTensorType([None, 1])) for f in FEATURES]
    graph = to_onnx(pipeline, initial_types=types, options={id(pipeline.steps[-1][1]): {"zipmap": False}},
                    target_opset=17)
    imports = sorted(graph.opset_import, key=lambda entry: entry.domain)   # skl2onnx's order varies per process
    del graph.opset_import[:]
    graph.opset_import.extend(imports)
    path.write_bytes(graph.SerializeToString())
    return path


def write_all() -> None:
    """Write evaluation.csv, training.csv, model.skops and model.onnx beside this script."""
    import zipfile

    import skops.io as sio

    evaluation, training = generate(), generate_training()
    for frame, path in ((evaluation, EVALUATION_FILE), (training, TRAINING_FILE)):
        frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    model = train_model(training)
    sio.dump(model, SKOPS_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)   # about 10 KB, not 120
    save_onnx(model, ONNX_FILE)
    for path in (EVALUATION_FILE, TRAINING_FILE, SKOPS_FILE, ONNX_FILE):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    write_all()
