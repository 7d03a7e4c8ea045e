"""Bad uploads and bad set-ups give a message that says what to fix: never a traceback or a blank page."""

from __future__ import annotations

import pytest

from app_helpers import WELFARE_CSV, no_exception, setup_key, start, texts, upload, visit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BAD_FILES = [
    ("empty.csv", b"", "has no rows: it is 0 bytes long"),
    ("header.csv", b"a,b,c\n", "has a header with the columns 'a', 'b', 'c' but no data rows"),
    ("junk.csv", bytes(range(256)) * 40, "binary data"),
    ("ragged.csv", b"a,b\n" + b"1,2\n" * 30 + b"3,4,5\n" + b"6,7\n" * 30, "line 32 has 3 fields but the header has 2"),
    ("broken.parquet", b"PAR1 not really parquet", "not a valid Parquet file"),
    ("broken.xlsx", b"not a workbook", "not a valid .xlsx workbook"),
]


@pytest.mark.parametrize("name,data,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_upload_says_what_is_wrong_and_keeps_the_audit(monkeypatch, tmp_path, name, data, message) -> None:
    at = start(monkeypatch, tmp_path)
    before = visit(at).result.result_sha256
    at.switch_page("screens/data.py").run()
    upload(at, name, data)
    no_exception(at)
    errors = "\n".join(e.value for e in at.error)
    assert "The file could not be read" in errors and message in errors and name in errors
    assert visit(at).result.result_sha256 == before          # nothing lost: the previous audit is still there
    assert visit(at).workspace.dataset.name == "welfare_fraud.csv"


def test_an_upload_over_the_limit_is_refused_with_the_limit(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path, max_upload_mb=1)
    at.switch_page("screens/data.py").run()
    upload(at, "big.csv", b"a,b\n" + b"1,2\n" * 400_000)
    no_exception(at)
    assert "more than the limit of 1 MB" in "\n".join(e.value for e in at.error)


def test_a_cp1252_semicolon_file_is_read_with_what_was_detected(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/data.py").run()
    rows = ["naam;geslacht;besluit"] + [f"Zoë {i};{'v' if i % 2 else 'm'};{i % 3 == 0:d}" for i in range(60)]
    upload(at, "gemeente.csv", "\n".join(rows).encode("cp1252"))
    no_exception(at)
    shown = texts(at)
    assert "Read 60 rows and 3 columns" in shown and "Encoding: cp1252 (detected)" in shown
    assert "Delimiter: ;" in shown


def _welfare_setup(monkeypatch, tmp_path):
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/data.py").run()
    upload(at, "welfare_fraud.csv", WELFARE_CSV.read_bytes())
    return at.switch_page("screens/setup.py").run()


def test_an_identifier_as_protected_attribute_is_a_message_naming_it(monkeypatch, tmp_path) -> None:
    at = _welfare_setup(monkeypatch, tmp_path)
    at.multiselect(key=setup_key(at, "protected")).set_value(["application_id"]).run()
    at.button(key="setup.run").click().run()
    no_exception(at)
    errors = "\n".join(e.value for e in at.error)
    assert "application_id" in errors and "50" in errors
    assert at.title[0].value == "Set-up"                      # still on the page, with the set-up kept
    assert [p.column for p in visit(at).form.protected] == ["application_id"]


def test_no_protected_attribute_lists_the_problem_and_offers_no_run(monkeypatch, tmp_path) -> None:
    at = _welfare_setup(monkeypatch, tmp_path)
    at.multiselect(key=setup_key(at, "protected")).set_value([]).run()
    no_exception(at)
    assert "protected" in "\n".join(e.value for e in at.error)
    assert not [b for b in at.button if b.key == "setup.run"]


def test_top_k_above_the_population_is_a_message(monkeypatch, tmp_path) -> None:
    at = _welfare_setup(monkeypatch, tmp_path)
    at.radio(key=setup_key(at, "kind")).set_value("score").run()
    at.selectbox(key=setup_key(at, "score_column")).set_value("risk_score").run()
    at.radio(key=setup_key(at, "mode")).set_value("top_k").run()
    at.number_input(key=setup_key(at, "threshold.top_k")).set_value(50_000).run()
    at.button(key="setup.run").click().run()
    no_exception(at)
    assert "50,000 highest scores" in "\n".join(e.value for e in at.error)


def test_a_non_numeric_score_is_a_message_naming_the_column(monkeypatch, tmp_path) -> None:
    at = _welfare_setup(monkeypatch, tmp_path)
    spec = (b"system: {name: Rivierstad}\nscore: {column: district, threshold: 0.5, adverse: true}\n"
            b"protected: [{column: sex}]\n")
    upload(at, "spec.yaml", spec, key="setup.spec_upload")
    assert at.selectbox(key=setup_key(at, "score_column")).value == "district"
    at.button(key="setup.run").click().run()
    no_exception(at)
    errors = "\n".join(e.value for e in at.error)
    assert "'district'" in errors and "must hold numbers" in errors


SPECS = [
    ("broken.yaml", b"system: [unclosed\n", "is not valid YAML at line 2", "broken.yaml"),
    ("many.yaml", b"system: {name: x}\ndecision: {column: flagged, positive: 1}\nprotected: []\n"
                  b"policy: [{metric: selection_rat, ratio: [0.8, 1.25]}]\n", "problems in the spec", "selection_rat"),
    ("latin.yaml", "system: {name: Zoë}\n".encode("cp1252"), "is not UTF-8 text", "latin.yaml"),
]


@pytest.mark.parametrize("name,data,first,second", SPECS, ids=[s[0] for s in SPECS])
def test_a_bad_spec_upload_lists_its_problems(monkeypatch, tmp_path, name, data, first, second) -> None:
    at = _welfare_setup(monkeypatch, tmp_path)
    form = visit(at).form
    upload(at, name, data, key="setup.spec_upload")
    no_exception(at)
    errors = "\n".join(e.value for e in at.error)
    assert first in errors and second in errors, errors
    assert visit(at).form == form                               # the set-up on the page is kept


def test_a_spec_upload_naming_a_missing_column_says_which(monkeypatch, tmp_path) -> None:
    at = _welfare_setup(monkeypatch, tmp_path)
    spec = (b"system: {name: Rivierstad}\ndecision: {column: flagged, positive: 1, adverse: true}\n"
            b"protected: [{column: nationalty}]\npolicy: [{metric: selection_rate, ratio: [0.8, 1.25]}]\n")
    upload(at, "spec.yaml", spec, key="setup.spec_upload")
    no_exception(at)
    assert "columns that the data does not have: nationalty" in "\n".join(w.value for w in at.warning)
    at.button(key="setup.run").click().run()
    no_exception(at)
    errors = "\n".join(e.value for e in at.error)
    assert "nationalty" in errors and "nationality" in errors     # did you mean


def test_a_filter_that_reads_a_file_is_refused(monkeypatch, tmp_path) -> None:
    at = _welfare_setup(monkeypatch, tmp_path)
    secret = tmp_path / "secret.csv"
    secret.write_text("x\n1\n")
    spec = (f"system: {{name: Rivierstad}}\ndata: {{path: welfare_fraud.csv, where: \"(SELECT count(*) FROM "
            f"read_csv('{secret}')) > 0\"}}\ndecision: {{column: flagged, positive: 1, adverse: true}}\n"
            f"protected: [{{column: sex}}]\n").encode()
    upload(at, "spec.yaml", spec, key="setup.spec_upload")
    at.button(key="setup.run").click().run()
    no_exception(at)
    assert "data.where" in "\n".join(e.value for e in at.error)


@pytest.mark.parametrize("key,value,message", [
    ("ratio", 1.0, "(--ratio) must differ from 1"),
    ("base_rate", 0.0, "(--base-rate) must be a rate strictly between 0 and 1"),
    ("power", 1.0, "(--power) must be strictly between 0 and 1"),
    ("ratio", 5.0, "is 1.5, not a rate"),
])
def test_a_bad_plan_input_is_the_toolkits_message(monkeypatch, tmp_path, key, value, message) -> None:
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/setup.py").run()
    at.number_input(key=f"setup.plan.en.{key}").set_value(value).run()
    no_exception(at)
    shown = "\n".join(e.value for e in at.error)
    assert "The plan could not be made" in shown and message in shown
    assert "Traceback" not in shown and not at.metric                # a message instead of a plan


def test_no_comparisons_is_the_toolkits_message(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/setup.py").run()
    size = visit(at).result.family.size
    at.number_input(key=f"setup.plan.en.comparisons.{size}").set_value(0).run()
    no_exception(at)
    assert "(--comparisons) must be a whole number of verdicts, at least 1; got 0" in "\n".join(e.value for e in at.error)
