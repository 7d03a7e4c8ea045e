"""History (save, reopen, compare), login, and privacy of uploads, in Streamlit's AppTest."""

from __future__ import annotations

import pandas as pd
import pytest

from app_helpers import results_key, WELFARE_CSV, no_exception, setup_key, start, texts, upload, visit
from audit.passwords import hash_password
from audit.registry import Registry

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_save_reopen_and_compare_two_audits(monkeypatch, tmp_path) -> None:
    at = start(monkeypatch, tmp_path)
    first = visit(at).result
    at.button(key="results.save").click().run()
    no_exception(at)
    assert "Saved in the history as audit #1" in texts(at)
    # a second round: the same system judged at a lower cut-off (more people flagged)
    from audit_app.workspace import slider_grid

    state = visit(at)
    lower = next(g for g in slider_grid(state.workspace.counts_for(state.spec), state.spec) if g >= 0.6)
    at.select_slider(key=results_key(at, "value")).set_value(lower).run()
    at.button(key=results_key(at, "use_threshold")).click().run()
    no_exception(at)
    second = visit(at).result
    assert second.result_sha256 != first.result_sha256
    at.button(key="results.save").click().run()
    records = Registry(tmp_path / "registry.sqlite").list(user=None)
    assert [r.id for r in records] == [2, 1] and {r.owner for r in records} == {"local"}
    at.switch_page("screens/history.py").run()
    no_exception(at)
    assert at.dataframe[0].value["#"].tolist() == [2, 1]
    assert "verdicts got worse" in texts(at)                          # the comparison of #1 and #2
    at.selectbox(key="history.chosen").set_value(1).run()
    at.button(key="history.reopen").click().run()
    no_exception(at)
    state = visit(at)
    assert state.reopened_id == 1 and state.result.result_sha256 == first.result_sha256
    assert "its tables are exactly those saved" in texts(at)
    assert state.workspace.dataset.loaded is None                     # the rows were never stored
    assert state.workspace.audit(state.spec).result_sha256 == first.result_sha256  # derived again: proxies kept


def test_the_history_never_holds_uploaded_rows(monkeypatch, tmp_path) -> None:
    marker = "ZZ-UNIQUE-MARKER-7731"
    frame = pd.read_csv(WELFARE_CSV)
    frame.loc[123, "application_id"] = marker
    monkeypatch.chdir(tmp_path)
    at = start(monkeypatch, tmp_path)
    at.switch_page("screens/data.py").run()
    upload(at, "welfare.csv", frame.to_csv(index=False).encode())
    at.switch_page("screens/setup.py").run()
    at.toggle(key=setup_key(at, "proxies")).set_value(True).run()
    at.button(key="setup.run").click().run()
    no_exception(at)
    at.button(key="results.save").click().run()
    at.switch_page("screens/report.py").run()
    no_exception(at)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} <= {"registry.sqlite", "registry.sqlite-journal", "registry.sqlite-wal",
                                       "registry.sqlite-shm"}, files      # nothing else was written
    for path in files:
        assert marker.encode() not in path.read_bytes()


def _password_secrets(users: dict[str, str]) -> dict:
    return {"audit_app": {"passwords": {name: hash_password(password, iterations=1000)
                                        for name, password in users.items()}}}


def test_a_password_login_guards_every_page(monkeypatch, tmp_path) -> None:
    secrets = _password_secrets({"lan": "mật khẩu 1", "minh": "pw2"})
    at = start(monkeypatch, tmp_path, secrets=secrets)
    no_exception(at)
    assert at.title[0].value == "Algorithmic audit"
    assert "visit" not in at.session_state or visit(at).result is None   # nothing audited, nothing shown
    at.text_input[0].input("lan")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert "The user name or password is wrong." in "\n".join(e.value for e in at.error)
    at.text_input[0].input("lan")
    at.text_input[1].input("mật khẩu 1")
    at.button[0].click().run()
    no_exception(at)
    assert "Overall verdict" in texts(at) and "Signed in as lan" in texts(at)


def test_history_shows_a_users_own_and_shared_audits_only(monkeypatch, tmp_path) -> None:
    secrets = _password_secrets({"lan": "a", "minh": "b"})
    at = start(monkeypatch, tmp_path, secrets=secrets)
    at.session_state["audit_app_user"] = "lan"
    at.run()
    at.button(key="results.save").click().run()               # lan's private audit, #1
    other = start(monkeypatch, tmp_path, secrets=secrets)
    other.session_state["audit_app_user"] = "minh"
    other.run()
    other.switch_page("screens/history.py").run()
    no_exception(other)
    assert "No audit saved yet" in texts(other)
    registry = Registry(tmp_path / "registry.sqlite")
    registry.set_shared(1, True, user="lan")
    other.run()
    assert other.dataframe[0].value["#"].tolist() == [1]
    assert not [b for b in other.button if b.key == "history.delete"]     # minh may not delete lan's audit


def test_oidc_login_uses_streamlits_user(monkeypatch, tmp_path) -> None:
    secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                        "client_id": "audit", "client_secret": "s",
                        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}
    at = start(monkeypatch, tmp_path, secrets=secrets, user={"is_logged_in": False})
    no_exception(at)
    assert at.title[0].value == "Algorithmic audit" and at.button[0].label == "Sign in"
    at = start(monkeypatch, tmp_path, secrets=secrets,
               user={"is_logged_in": True, "email": "lan@so-lao-dong.gov.vn", "name": "Nguyễn Thị Lan"})
    no_exception(at)
    assert "Signed in as Nguyễn Thị Lan" in texts(at)
    at.button(key="results.save").click().run()
    assert Registry(tmp_path / "registry.sqlite").list(user=None)[0].owner == "lan@so-lao-dong.gov.vn"


def test_a_broken_secrets_file_keeps_the_app_closed(monkeypatch, tmp_path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[audit_app.passwords\nlan = 1\n")
    from streamlit.testing.v1 import AppTest

    from app_helpers import MAIN

    monkeypatch.setenv("AUDIT_APP_REGISTRY", str(tmp_path / "r.sqlite"))
    monkeypatch.setenv("STREAMLIT_SECRETS_FILES", str(secrets))
    at = AppTest.from_file(str(MAIN), default_timeout=60)
    from streamlit.testing.v1.util import patch_config_options

    with patch_config_options({"secrets.files": [str(secrets)]}):
        at.run()
    no_exception(at)
    assert "Signing in is not possible" in "\n".join(e.value for e in at.error)
    assert "Overall verdict" not in texts(at)
