"""The app in Vietnamese (every text translated, numbers in Vietnamese notation) and the Report page."""

from __future__ import annotations

import io
import subprocess
import zipfile

import pytest

from app_helpers import results_key, WELFARE_CSV, no_exception, setup_key, start, texts, upload, visit
from audit.evidence import verify
from audit.report.pdf import pdf_bytes
from audit.report.writer import evidence_bundle

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_app_in_vietnamese(monkeypatch, tmp_path) -> None:
    # (switching with the sidebar's selector is tested in the browser: AppTest loses a navigation app's
    # main-script widget state when the page titles change)
    at = start(monkeypatch, tmp_path, lang="vi")
    no_exception(at)
    shown = texts(at)
    assert "Kết luận chung: KHÔNG ĐẠT" in shown and "Overall verdict" not in shown
    assert "ngưỡng cắt 0,7" in shown                              # decimal comma
    size = visit(at).result.family.size
    assert (f"{size} kết luận của cuộc kiểm toán được đánh giá như một họ kết luận ở mức α = 0,05: xác suất để dữ "
            f"liệu không có chênh lệch nào vẫn cho ra một kết luận không đạt ở bất kỳ đâu trong cuộc kiểm toán này "
            f"tối đa là 5%.") in shown
    # what would decide an inconclusive verdict is said in Vietnamese, not in the toolkit's English
    decide = [d.value["Điều gì sẽ giúp kết luận"] for d in at.dataframe if "Điều gì sẽ giúp kết luận" in d.value]
    said = [text for column in decide for text in column if text]
    assert said and all("nhóm cần" in text and "people" not in text and "detectable" not in text for text in said)
    assert any("Khoảng tin cậy theo họ (99,964%)" in d.value.columns for d in at.dataframe)
    at.switch_page("screens/data.py").run()
    assert at.title[0].value == "Dữ liệu"


def test_every_text_of_every_page_is_translated(monkeypatch, tmp_path) -> None:
    from audit_app import text

    text.UNTRANSLATED.clear()
    at = start(monkeypatch, tmp_path, lang="vi")
    at.radio(key=results_key(at, "mode")).set_value("top_k").run()
    at.button(key="results.save").click().run()
    for page in ("screens/data.py", "screens/setup.py", "screens/report.py", "screens/history.py"):
        at.switch_page(page).run()
        no_exception(at)
    at.switch_page("screens/data.py").run()
    upload(at, "welfare_fraud.csv", WELFARE_CSV.read_bytes())
    at.switch_page("screens/setup.py").run()
    at.radio(key=setup_key(at, "kind")).set_value("tiers").run()
    at.multiselect(key=setup_key(at, "protected")).set_value([]).run()
    no_exception(at)
    # the planning panel: shares from the data, the reverse question, and a bad value's heading
    at.switch_page("screens/data.py").run()
    upload(at, "welfare_fraud.csv", WELFARE_CSV.read_bytes())
    at.switch_page("screens/setup.py").run()
    at.selectbox(key="setup.plan.vi.shares").set_value("nationality").run()
    at.radio(key="setup.plan.vi.question").set_value("ratios").run()
    at.radio(key="setup.plan.vi.question").set_value("people").run()
    at.number_input(key="setup.plan.vi.ratio").set_value(1.0).run()
    no_exception(at)
    assert "Không thể lập kế hoạch" in "\n".join(e.value for e in at.error)
    assert not text.UNTRANSLATED, sorted(text.UNTRANSLATED)


def test_the_catalogue_translates_every_message_of_the_source() -> None:
    from conftest import ROOT

    result = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "app_messages.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_report_page_uses_the_context_and_offers_every_file(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/report.py").run()
    no_exception(at)
    labels = {b.label for b in at.get("download_button")}
    assert {"Report (HTML)", "Report (PDF)", "Results (JSON)", "Spec (YAML)", "Evidence bundle (ZIP)"} <= labels
    version = visit(at).form_version
    at.text_input(key=f"report.{version}.agency").input("Sở Lao động – Thương binh và Xã hội")
    at.text_input(key=f"report.{version}.auditor").input("Nguyễn Thị Lan")
    at.radio(key=f"report.{version}.language").set_value("vi")
    at.button[0].click().run()                                   # the form's "Update the report"
    no_exception(at)
    state = visit(at)
    html = state.report_context["html"]
    assert "Sở Lao động – Thương binh và Xã hội" in html and "Nguyễn Thị Lan" in html and 'lang="vi"' in html
    assert state.spec.report.agency == "Sở Lao động – Thương binh và Xã hội"
    assert state.base_spec["report"]["auditor"] == "Nguyễn Thị Lan"      # the Set-up page's spec carries it
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf_bytes(html), capture_output=True).stdout.decode()
    assert "Thương binh và Xã hội" in text and state.result.spec.system.name in text
    bundle = zipfile.ZipFile(io.BytesIO(evidence_bundle(state.result)))
    assert {"public/report.html", "public/report.pdf", "result.json", "spec.yaml", "manifest.json",
            "public/manifest.json"} <= set(bundle.namelist())
    bundle.extractall(tmp_path / "bundle")
    assert verify(tmp_path / "bundle").ok
