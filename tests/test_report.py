"""The oversight report: contents, languages, PDF text, small cells, injection, evidence, the command line."""

from __future__ import annotations

import re
import shutil
from html import unescape
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import audit
from audit.cli import main
from audit.report.writer import render_report_html, write_report
from conftest import EXAMPLES

COMPAS = EXAMPLES / "compas" / "spec.yaml"
FRAMEWORKS = ["nyc_ll144", "eu_ai_act", "vietnam", "canada_aia", "nist_ai_rmf"]


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _compas_spec(**report) -> dict:
    raw = yaml.safe_load(COMPAS.read_text())
    raw["data"]["path"] = str(COMPAS.parent / raw["data"]["path"])
    raw["report"] = {"frameworks": FRAMEWORKS, "auditor": "Nguyễn Thị Lan", "audit_date": "2026-11-23",
                     "agency": "Broward County", "answers": {"eu_ai_act.fria.period": "Daily, since 2013"},
                     **report}
    return raw


@pytest.fixture(scope="module")
def compas_report(tmp_path_factory) -> tuple[audit.AuditResult, Path]:
    out = tmp_path_factory.mktemp("compas_report")
    result = audit.run(_compas_spec())
    write_report(result, out)
    return result, out


def test_report_files_and_sections_in_order(compas_report) -> None:
    _, out = compas_report
    for name in ("result.json", "summary.md", "junit.xml", "manifest.json", "public/report.html", "public/report.pdf",
                 "public/public.json", "public/public.md", "public/manifest.json"):
        assert (out / name).exists(), name
    html = (out / "public" / "report.html").read_text(encoding="utf-8")
    headings = ["Executive summary", "Scope and data", "Method", "Results", "Findings", "Limitations",
                "Recommendations", "NYC Local Law 144", "EU AI Act", "Vietnam", "Canada", "NIST",
                "Sign-off", "Reproducibility manifest"]
    titles = re.findall(r"<h2>(.*?)</h2>", html)
    positions = [next(i for i, t in enumerate(titles) if h in t) for h in headings]
    assert positions == sorted(positions), titles
    assert html.index("Reproducibility manifest") < html.index("<h3>Glossary</h3>")
    assert "Daily, since 2013" in html and "Not provided" in html  # a spec answer, and a visible gap


def test_pdf_text_has_the_key_numbers(compas_report) -> None:
    result, out = compas_report
    text = _pdf_text(out / "public" / "report.pdf")
    row = result.verdicts.query("metric == 'fpr' and attribute == 'race' and group == 'African-American'").iloc[0]
    assert f"{row['estimate']:.3g}" in text  # 1.92
    assert f"{row['ci_low']:.3g} to {row['ci_high']:.3g}" in text
    assert f"{row['family_ci_low']:.3g} to {row['family_ci_high']:.3g}" in text  # 1.46 to 2.56
    assert "1 − α/34 = 99.85%" in " ".join(text.split())  # the method names the family's size
    assert result.provenance.data.sha256 not in text.replace("\n", "").replace(" ", "")  # guessable if small
    assert "kept in the internal evidence" in " ".join(text.split())
    assert "Nguyễn Thị Lan" in text


def test_pdf_pages_render_to_png(compas_report, tmp_path) -> None:
    _, out = compas_report
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "2", str(out / "public" / "report.pdf"),
                    str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 2 and all(p.stat().st_size > 2000 for p in pages)
    artifacts = Path(__file__).parent.parent / "out" / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    for page in pages:
        shutil.copy(page, artifacts / f"report-{page.name}")


def test_vietnamese_report_with_diacritics_in_html_and_pdf(tmp_path) -> None:
    result = audit.run(_compas_spec(language="vi"))
    write_report(result, tmp_path)
    html = (tmp_path / "public" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html
    text = _pdf_text(tmp_path / "public" / "report.pdf")
    for words in ("Kiểm toán thuật toán", "Kết luận chung", "Nguyễn Thị Lan", "23 tháng 11 năm 2026",
                  "Tỷ lệ dương tính giả của African-American"):
        assert words in text, words
    row = result.verdicts.query("metric == 'fpr' and attribute == 'race' and group == 'African-American'").iloc[0]
    assert f"{row['estimate']:.3g}".replace(".", ",") in text  # Vietnamese decimal comma


def test_html_is_self_contained(compas_report) -> None:
    _, out = compas_report
    html = (out / "public" / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!data:|#)""", html)
    assert not re.search(r"url\((?!\s*['\"]?data:)", html)
    assert "@font-face" in html and "<script" not in html


def _small_groups_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 600
    region = np.array(["north"] * 300 + ["south"] * 280 + ["island"] * 16 + ["=HYPERLINK(\"http://x\")"] * 4)
    sex = rng.choice(["f", "m"], n)
    y = rng.integers(0, 2, n)
    d = (rng.random(n) < 0.3 + 0.2 * (region == "south")).astype(int)
    return pd.DataFrame({"region": region, "sex": sex, "y": y, "d": d})


SMALL_SPEC = {"system": {"name": "<script>alert('x')</script> scoring"},
              "outcome": {"column": "y", "positive": 1}, "decision": {"column": "d", "positive": 1, "adverse": True},
              "protected": [{"column": "region", "reference": "north"}, {"column": "sex"}],
              "intersections": [["region", "sex"]],
              "policy": [{"metric": "selection_rate", "ratio": [0.8, 1.25]}],
              "report": {"small_cell_k": 10, "agency": "javascript:alert(1)"}}


def test_no_published_output_shows_a_count_below_k(tmp_path) -> None:
    result = audit.run(SMALL_SPEC, _small_groups_frame())
    files = write_report(result, tmp_path)
    small = result.groups.query("metric == 'count' and value < 10")
    assert len(small)  # the case has cells below k
    text = _pdf_text(tmp_path / "public" / "report.pdf")
    html = (tmp_path / "public" / "report.html").read_text(encoding="utf-8")
    for r in small.to_dict(orient="records"):
        cell = re.escape(str(r["group"]))
        # the row of that group in any table never shows its count as a number
        for body in (html,):
            for match in re.finditer(rf">{cell}</td><td class=\"num\">([^<]*)<", body):
                assert match.group(1).strip() in ("&lt; 10", "—"), (r["group"], match.group(1))
    assert "< 10" in text
    for name, path in files.paths.items():
        if name.startswith("public") and name.endswith(".csv"):
            frame = pd.read_csv(path)
            for column in ("n", "numerator", "denominator", "reference_n"):
                if column in frame:
                    numbers = pd.to_numeric(frame[column], errors="coerce").dropna()
                    assert not ((numbers < 10) & (numbers >= 0)).any() or column == "numerator", (name, column)


def test_values_from_data_and_spec_are_inert(tmp_path) -> None:
    result = audit.run(SMALL_SPEC, _small_groups_frame())
    write_report(result, tmp_path)
    html = (tmp_path / "public" / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html and "javascript:alert(1)" in html  # shown as text
    text = _pdf_text(tmp_path / "public" / "report.pdf")
    assert "<script>alert('x')</script>" in text.replace("’", "'").replace("&#39;", "'")
    for path in (tmp_path / "public").glob("public*.csv"):
        for line in path.read_text(encoding="utf-8").splitlines():
            for cell in line.split(","):
                assert not cell.strip('"').startswith("=HYPERLINK"), (path.name, cell)


def test_verify_detects_a_one_byte_change_and_a_wrong_signature(tmp_path) -> None:
    runner = CliRunner()
    keys = tmp_path / "keys"
    keys.mkdir()
    assert runner.invoke(main, ["keygen", "--private", str(keys / "a.pem"), "--public", str(keys / "a.pub")]
                         ).exit_code == 0
    assert runner.invoke(main, ["keygen", "--private", str(keys / "b.pem"), "--public", str(keys / "b.pub"),
                                "--commitment", str(keys / "c.key")]).exit_code == 0
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_compas_spec()), encoding="utf-8")
    out = tmp_path / "out"
    made = runner.invoke(main, ["report", str(spec), "--out", str(out), "--sign", str(keys / "a.pem"),
                                "--commit-key", str(keys / "c.key")])
    assert made.exit_code == 0, made.output
    ok = runner.invoke(main, ["verify", str(out), "--key", str(keys / "a.pub"), "--commit-key", str(keys / "c.key")])
    assert ok.exit_code == 0 and "the result matches the commitment" in ok.output, ok.output
    wrong = runner.invoke(main, ["verify", str(out), "--key", str(keys / "b.pub")])
    assert wrong.exit_code == 1 and "invalid" in wrong.output.lower()
    for name in ("public/report.pdf", "public/report.html", "result.json", "public/public.json"):
        path = out / name
        original = path.read_bytes()
        changed = bytearray(original)
        changed[len(changed) // 2] ^= 1
        path.write_bytes(bytes(changed))
        result = runner.invoke(main, ["verify", str(out)])
        assert result.exit_code == 1 and name in result.output, (name, result.output)
        path.write_bytes(original)
    assert runner.invoke(main, ["verify", str(out)]).exit_code == 0


def test_cli_report_options_and_bad_input(tmp_path) -> None:
    runner = CliRunner()
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(_compas_spec()), encoding="utf-8")
    run = runner.invoke(main, ["run", str(spec), "--out", str(tmp_path / "o"), "--report", "--lang", "vi"])
    assert run.exit_code == 1, run.output  # the audit fails its policy; the report is written anyway
    assert (tmp_path / "o" / "public" / "report.pdf").exists()
    assert '<html lang="vi">' in (tmp_path / "o" / "public" / "report.html").read_text(encoding="utf-8")
    no_out = runner.invoke(main, ["run", str(spec), "--report"])
    assert no_out.exit_code == 2 and "--out" in no_out.output and "Traceback" not in no_out.output
    bad_key = tmp_path / "bad.pem"
    bad_key.write_text("not a key")
    signed = runner.invoke(main, ["report", str(spec), "--out", str(tmp_path / "s"), "--sign", str(bad_key)])
    assert signed.exit_code == 2 and "bad.pem" in signed.output and "Traceback" not in signed.output
    missing = runner.invoke(main, ["verify", str(tmp_path)])
    assert missing.exit_code == 2 and "manifest" in missing.output
    bad_framework = dict(_compas_spec(), report={"frameworks": ["gdpr"]})
    spec.write_text(yaml.safe_dump(bad_framework), encoding="utf-8")
    refused = runner.invoke(main, ["report", str(spec), "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "report.frameworks" in refused.output and "nyc_ll144" in refused.output


def test_report_html_is_the_same_through_the_python_api(compas_report) -> None:
    result, out = compas_report
    again = render_report_html(result, today=result.spec.report.audit_date)
    assert again == (out / "public" / "report.html").read_text(encoding="utf-8")


def test_small_share_exclusions_are_listed_with_count_rate_and_justification() -> None:
    spec = _compas_spec(small_share=0.02, small_share_justification="Too few defendants for a stable rate")
    result = audit.run(spec)
    html = render_report_html(result)
    share = result.groups.query("metric == 'share' and attribute == 'race' and view == 'decision'")
    small = share[share["value"] < 0.02]["group"].tolist()
    assert small and "Too few defendants for a stable rate" in html
    section = html[html.index("Categories excluded under the small-share rule"):html.index("3. Method")]
    for group in small:
        assert f"<td>{group}</td>" in section
    assert "Art. 5(1)(c)(i)" in html and "Art. 5(1)(c)(ii)" in html  # the social-scoring question
def test_findings_map_to_the_six_principles_in_vietnamese(tmp_path) -> None:
    html = render_report_html(audit.run(_compas_spec(language="vi")))
    for principle in ("đáng tin cậy", "trách nhiệm giải trình"):
        assert principle in html
    assert sys.modules["audit.report.frameworks"].VIETNAM_PRINCIPLES


def _untranslated(result: audit.AuditResult) -> list[str]:
    """Every fixed text the Vietnamese report of ``result`` asks for that the catalogue leaves in English
    (framework references such as ``6.3.1`` or ``MEASURE 2.11`` are the same in both languages)."""
    from audit.release import build_release
    from audit.report.content import build_content
    from audit.report.html import RecordingTranslator, render_html
    from audit.report.i18n import Translator

    references = re.compile(r"^(?:[\d.]+|(?:MAP|MEASURE) [\d.]+|§[\w().-]+)$")
    recorder = RecordingTranslator("vi")
    render_html(build_content(build_release(result)), lang="vi", confidence=0.95, translator=recorder)
    english = Translator("en")
    vietnamese = Translator("vi")
    return sorted(m for m in recorder.asked if vietnamese.gettext(m) == english.gettext(m) and not references.match(m))


def test_every_text_of_a_vietnamese_report_is_translated() -> None:
    assert _untranslated(audit.run(_compas_spec(language="vi", small_share=0.02))) == []


# ------------------------------------------------------------------------------------------------------
# verdicts judged as one family: both intervals, p (family), what would decide, the method


def _verdict_cells(html: str, block: str, group: str) -> list[str]:
    """The cells of ``group``'s row in the result block headed ``block`` (attribute — rule [view])."""
    start = html.index(f"<h3>{block}")
    body = html[start:html.index("</table>", start)]
    row = re.search(rf"<tr><td>{re.escape(group)}</td>(.*?)</tr>", body, flags=re.DOTALL)
    assert row is not None, (block, group)
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]


def test_the_verdict_table_shows_both_intervals_and_p_family_as_in_the_result(compas_report) -> None:
    from audit.report.i18n import format_interval

    result, out = compas_report
    html = (out / "public" / "report.html").read_text(encoding="utf-8")
    assert result.family.size == 34
    assert "<th>95% interval</th><th>family interval (99.85% each)</th><th>p (family)</th>" in html
    row = result.verdicts.query("metric == 'fpr' and attribute == 'race' and group == 'African-American'").iloc[0]
    cells = _verdict_cells(html, "race — fpr ratio in [0.8, 1.25] (ci)", "African-American")
    assert cells[3:8] == ["1.92", format_interval(row["ci_low"], row["ci_high"], "en"),
                          format_interval(row["family_ci_low"], row["family_ci_high"], "en"), "&lt; 0.001", "fail"]
    assert cells[4:6] == ["1.71 to 2.17", "1.46 to 2.56"]
    other = result.verdicts.query("metric == 'fpr' and attribute == 'race' and group == 'Other'").iloc[0]
    cells = _verdict_cells(html, "race — fpr ratio in [0.8, 1.25] (ci)", "Other")
    assert cells[5:7] == [format_interval(other["family_ci_low"], other["family_ci_high"], "en"), "0.036"]
    assert f"{other['p_family']:.2g}" == "0.036"                    # raw p 0.0015, adjusted over the 34


def test_every_inconclusive_verdict_says_what_would_decide_it(compas_report) -> None:
    from audit.report.html import _Formatter
    from audit.report.i18n import Translator
    from audit.suppression import suppress
    from audit.wording import to_decide

    result, out = compas_report
    html = unescape((out / "public" / "report.html").read_text(encoding="utf-8"))
    public = suppress(result).verdicts
    shown = public[(public["verdict"] == "inconclusive") & public["needed_n"].notna()]
    assert len(shown) >= 5  # the others are withheld (small cells): they say nothing
    for row in shown.to_dict(orient="records"):
        assert f"What would decide it: {to_decide(row)}." in html, row["group"]
    hispanic = result.verdicts.query("metric == 'fpr' and group == 'Hispanic'").iloc[0]
    assert f"the group needs {int(hispanic['needed_n']):,} people" in html
    # no group size decides an estimate on the band's edge; numbers in Vietnamese notation
    english, vietnamese = (_Formatter(Translator(lang), 0.95) for lang in ("en", "vi"))
    from audit.report.content import to_decide as clauses

    edge = clauses({"bound": "ratio", "detectable_ratio": 0.8, "needed_n": float("inf")})
    assert english.decide(edge) == ("detectable with 80% power: a ratio of 0.8 or further from parity; at the "
                                    "observed rates no group size decides it (the estimate sits on the band's "
                                    "edge or equals the reference)")
    wide = clauses({"bound": "difference", "detectable_difference": -0.0943, "needed_n": 15575.0,
                    "needed_known_outcomes": 9000.0, "needed_reference_n": 64348.0})
    assert english.decide(wide) == to_decide({"bound": "difference", "detectable_difference": -0.0943,
                                              "needed_n": 15575.0, "needed_known_outcomes": 9000.0,
                                              "needed_reference_n": 64348.0})
    assert vietnamese.decide(wide) == ("có thể phát hiện với độ mạnh kiểm định 80%: chênh lệch -0,0943 hoặc xa mức "
                                       "ngang bằng hơn; với các tỷ lệ quan sát được, nhóm cần 15.575 người (9.000 "
                                       "người đã biết kết quả thực tế) và nhóm tham chiếu cần 64.348 người")
    assert clauses({"bound": "ratio", "detectable_ratio": float("nan"), "needed_n": None}) == ()


def test_the_method_names_the_family_and_how_each_rule_decides(compas_report) -> None:
    _, out = compas_report
    html = unescape((out / "public" / "report.html").read_text(encoding="utf-8"))
    method = html[html.index("3. Method"):html.index("4. Results")]
    for words in ("the 34 verdicts of this audit (every rule, group, intersection and decision view) are judged as "
                  "one family, at a family-wise error rate α = 0.05",
                  "Each family interval has confidence 1 − α/34 = 99.85%",
                  "significant: fails when the estimate is outside the band and p (family) is below α",
                  "ci: passes only when the family interval lies entirely inside the band",
                  "point: compares the estimate alone with the band",
                  "fpr ratio in [0.8, 1.25] (ci); selection_rate ratio in [0.8, 1.25] (significant)",
                  "Fisher's exact test when an expected cell count is below 1,000 (statistics.min_expected, 1,000 "
                  "by default)", "decided by exact evidence (Fisher's exact test; exact intervals) at any group "
                  "size", "The minimum group size, 30, guards only the point rule"):
        assert words in method, words
    for old in ("within each decision view", "Adjusted p-value", "A rule passes or fails only with enough evidence"):
        assert old not in html, old
    summary = html[html.index("1. Executive summary"):html.index("2. Scope and data")]
    assert "The rule checks form one family of size 34" in summary
    assert ("The selection rate of African-American (race) was 1.74 times that of Caucasian (95% CI 1.63 to 1.86); "
            "the policy allows 0.8 to 1.25. The estimate is outside the band and statistically significant across "
            "the family of 34 verdicts (p (family) < 0.001).") in summary
    assert ("The false positive rate of African-American (race) was 1.92 times that of Caucasian (95% CI 1.71 to "
            "2.17); the policy allows 0.8 to 1.25. Its family interval, 1.46 to 2.56 (99.85% each), lies entirely "
            "outside the band.") in summary


def test_a_point_rule_fail_is_not_statistically_established_in_both_languages() -> None:
    from audit.report.content import _FAIL_BASIS, _DETECTABLE, _NEEDED, _NO_SIZE_DECIDES
    from audit.report.html import GLOSSARY
    from audit.report.i18n import Translator

    spec = _compas_spec(language="vi")
    spec["policy"] = [{"metric": "selection_rate", "ratio": [0.8, 1.25], "rule": "point"}]
    result = audit.run(spec)
    fails = result.verdicts[result.verdicts["verdict"] == "fail"]
    assert len(fails) == 8 and set(fails["decision_rule"]) == {"point"}
    english = render_report_html(result, lang="en")
    row = fails.query("group == 'African-American'").iloc[0]
    assert (f"The selection rate of African-American (race) was {row['estimate']:.3g} times that of Caucasian (95% CI "
            f"{row['ci_low']:.3g} to {row['ci_high']:.3g}); the policy allows 0.8 to 1.25. The point rule compares "
            f"the estimate alone with the band: this fail is not statistically established.") in english
    assert ("Fails from point rules, which compare the estimate alone and are not statistically established: 8 of "
            "8.") in english
    vietnamese = render_report_html(result, lang="vi")
    assert "kết luận không đạt này chưa được xác lập về mặt thống kê" in vietnamese
    assert "chưa được xác lập về mặt thống kê: 8 trên 8." in vietnamese
    assert _untranslated(result) == []  # the point rule's sentences, limitation and summary too
    translator = Translator("vi")
    messages = [*_FAIL_BASIS.values(), *_DETECTABLE.values(), *_NEEDED.values(), _NO_SIZE_DECIDES,
                *(text for pair in GLOSSARY for text in pair)]
    assert [m for m in messages if translator.gettext(m) == m] == []
