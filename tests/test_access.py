"""Sign-in, companies and roles in the app (AppTest with Streamlit's own ``st.user`` seeding and
``[auth]`` secrets): the gate, session expiry, the company choice and each role's actions."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from stockroom import config, tenancy, workbench
from stockroom.procurement import actions, repo
from tests.test_procurement_plan import build_shop

APP = str(config.PROJECT_ROOT / "app.py")
AUTH = {  # Streamlit's OIDC settings; the provider is never reached in these tests
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a-test-secret-of-thirty-two-chars",
    "client_id": "stockroom",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
PEOPLE = {
    "admin": "ada@acme.example",
    "buyer": "bruno@acme.example",
    "analyst": "ana@acme.example",
    "viewer": "vic@acme.example",
}


@pytest.fixture(scope="module")
def install(tmp_path_factory):
    """An install with two companies: Acme (the Order today shop, one person per role; Bruno
    the buyer also belongs to Globex) and Globex (no data yet)."""
    install = tmp_path_factory.mktemp("install")
    acme = tenancy.add_company("acme", "Acme Trading", actor="ops", install_root=install)
    tenancy.add_company("globex", "Globex Resale", actor="ops", install_root=install)
    build_shop(acme)
    for role, email in PEOPLE.items():
        tenancy.invite("acme", email, role, actor="ops", install_root=install)
    tenancy.invite("globex", PEOPLE["buyer"], "viewer", actor="ops", install_root=install)
    return install


def app(install, monkeypatch, user: dict | None) -> AppTest:
    monkeypatch.setenv("STOCKROOM_DATA_ROOT", str(install))
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets["auth"] = AUTH
    at.user = user or {"is_logged_in": False}
    return at


def signed_in(email: str, hours_ago: float = 0.0) -> dict:
    return {"is_logged_in": True, "email": email, "iat": int(time.time() - hours_ago * 3600)}


def texts(at: AppTest) -> str:
    return " ".join(
        e.value for kind in ("markdown", "warning", "info", "caption") for e in at.get(kind)
    )


def test_a_visitor_who_is_not_signed_in_sees_only_the_sign_in_page(install, monkeypatch):
    at = app(install, monkeypatch, None)
    for page in (None, "app_pages/order_today.py", "app_pages/data_health.py"):
        if page:
            at.switch_page(page)
        at.run()
        assert not at.exception
        assert [b.label for b in at.button] == ["Sign in"]
        assert not at.metric and not at.dataframe and not at.get("plotly_chart")
        assert not at.sidebar.selectbox  # no company, no filters


def test_a_sign_in_older_than_the_session_length_must_be_renewed(install, monkeypatch):
    monkeypatch.setenv("STOCKROOM_SESSION_HOURS", "8")
    at = app(install, monkeypatch, signed_in(PEOPLE["admin"], hours_ago=9)).run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert "older than 8 hours" in at.warning[0].value
    assert not at.metric and not at.dataframe
    # within the session length the same person is in
    at = app(install, monkeypatch, signed_in(PEOPLE["admin"], hours_ago=7)).run()
    assert "Sign in" not in [b.label for b in at.button] and at.metric
    # a sign-in that does not say when it was issued is not trusted
    at = app(install, monkeypatch, {"is_logged_in": True, "email": PEOPLE["admin"]}).run()
    assert [b.label for b in at.button] == ["Sign in"]


def test_a_person_of_no_company_is_told_so_and_sees_nothing(install, monkeypatch):
    at = app(install, monkeypatch, signed_in("mallory@example.org")).run()
    assert "belongs to no company" in at.warning[0].value
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.metric and not at.dataframe


def test_the_sidebar_offers_only_the_persons_companies(install, monkeypatch):
    at = app(install, monkeypatch, signed_in(PEOPLE["buyer"])).run()
    company = at.sidebar.selectbox(key="company")
    assert company.options == ["Acme Trading", "Globex Resale"]
    assert not at.sidebar.text_input  # no free-text data root
    assert "bruno@acme.example · Acme Trading · buyer" in texts(at)
    company.select("globex").run()  # Globex has no data yet: its own empty root, not Acme's
    assert "No order snapshots" in at.info[0].value
    assert "Globex Resale · viewer" in texts(at)
    # a one-company person gets no choice at all
    at = app(install, monkeypatch, signed_in(PEOPLE["analyst"])).run()
    assert "company" not in {e.key for e in at.sidebar.selectbox}
    assert "Acme Trading · analyst" in texts(at)


# the buyer goes last: their order takes the SKU off the shared shop's "order today" list
@pytest.mark.parametrize("role", ["admin", "analyst", "viewer", "buyer"])
def test_each_role_sees_and_may_do_what_it_should_on_order_today(install, monkeypatch, role):
    at = app(install, monkeypatch, signed_in(PEOPLE[role]))
    at.switch_page("app_pages/order_today.py").run()
    assert not at.exception
    may_order = role in ("admin", "buyer")
    notes = texts(at)
    assert ("cannot place orders" in notes) is not may_order
    assert not at.sidebar.text_input  # decisions are signed by the sign-in, not a typed name
    at.session_state[f"table-{actions.ORDER_TODAY}"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}
    }
    at.run()
    button = at.button(key=f"order-{actions.ORDER_TODAY}")
    assert button.disabled is not may_order
    downloads = at.get("download_button")
    assert bool(downloads) and all(d.proto.disabled for d in downloads) is (role == "viewer")
    eng = workbench.engine(install / "companies" / "acme")
    before = repo.purchase_order_lines(eng)
    if not may_order:  # a forged click of the disabled button (a crafted message) does nothing:
        # Streamlit discards values sent for a disabled widget, and the page acts only with a
        # signer its role allows
        button._value = True  # what a crafted websocket message sends (AppTest refuses click())
        at.run()
        assert not at.exception
        assert repo.purchase_order_lines(eng).equals(before)
        return
    if role != "buyer":  # the buyer places the order (the shared shop then has it on order)
        return
    button.click().run()
    assert not at.exception
    after = repo.purchase_order_lines(eng)
    new = after.filter(~after["po_number"].is_in(before["po_number"].to_list()))
    assert new.height == 1 and new["created_by"].to_list() == [PEOPLE[role]]
    with eng.connect() as conn:  # the audit log names the signed-in person
        actor = conn.execute(
            sa.select(workbench.audit_log.c.actor).order_by(workbench.audit_log.c.id.desc())
        ).first()[0]
    assert actor == PEOPLE[role]


@pytest.mark.parametrize("role", ["admin", "buyer", "analyst", "viewer"])
def test_only_buyers_and_admins_get_the_import_page(install, monkeypatch, role):
    at = app(install, monkeypatch, signed_in(PEOPLE[role]))
    at.switch_page("app_pages/imports.py").run()
    assert not at.exception
    on_import = bool(at.title) and at.title[0].value.startswith("Import")
    assert on_import is (role in ("admin", "buyer"))


@pytest.fixture
def identity_provider():
    """A real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock: its sign-in form takes
    the person's id, here their email); yields its base URL."""
    import threading

    import oidc_provider_mock
    import werkzeug.serving

    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, oidc_provider_mock.app(require_nonce=True), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.mark.browser
def test_sign_in_in_chromium_and_forged_cookies_get_nothing(
    browser, install, identity_provider, tmp_path, monkeypatch
):
    import base64
    import json

    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    port = browser.free_port()
    url = f"http://127.0.0.1:{port}"
    secret = "the-install-cookie-secret-0123456789"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secret}"\n'
        'client_id = "stockroom"\n'
        'client_secret = "stockroom-secret"\n'
        f'server_metadata_url = "{identity_provider}/.well-known/openid-configuration"\n'
    )
    monkeypatch.setenv("STREAMLIT_SECRETS_FILES", str(secrets))

    def forge(cookies: list[dict]) -> list[dict]:
        real = next(c for c in cookies if c["name"] == "_streamlit_user")
        claims = {"email": PEOPLE["admin"], "is_logged_in": True, "iat": int(time.time())}
        # the real cookie with its claims swapped (signature kept), and a cookie signed with
        # a guessed secret
        # (itsdangerous: payload.timestamp.signature, the payload URL-safe base64 JSON)
        parts = real["value"].strip('"').split(".")
        payload = json.dumps(json.dumps(claims))  # the cookie holds the JSON text as a string
        parts[0] = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        tampered = ".".join(parts)
        guessed = create_signed_value("guessed", "_streamlit_user", json.dumps(claims)).decode()
        return [
            {"name": "_streamlit_user", "value": tampered},
            {"name": "_streamlit_user", "value": guessed},
        ]

    with browser.serve(install, port=port) as served:
        seen = browser.sign_in(served, PEOPLE["analyst"], forge, tmp_path)
    out = seen["signed_out"]
    assert out["buttons"] == ["Sign in"] and out["metrics"] == out["tables"] == 0
    assert "Company" not in out["sidebar"] and "Signed in" not in out["sidebar"]
    assert (tmp_path / "sign_in.png").stat().st_size > 5_000
    assert (tmp_path / "signed_in.png").stat().st_size > 20_000
    inside = seen["signed_in"]
    assert f"Signed in as {PEOPLE['analyst']} · Acme Trading · analyst" in inside["sidebar"]
    assert inside["metrics"] >= 4 and "_streamlit_user" in inside["cookies"]
    for forged in seen["forged"]:  # neither the tampered nor the guessed cookie gets in
        assert forged["buttons"] == ["Sign in"] and forged["metrics"] == forged["tables"] == 0
        assert "Signed in" not in forged["sidebar"]


def _admin_page(install, monkeypatch, role="admin") -> AppTest:
    at = app(install, monkeypatch, signed_in(PEOPLE[role]))
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("role", ["buyer", "analyst", "viewer"])
def test_the_admin_page_is_for_admins_only(install, monkeypatch, role):
    at = app(install, monkeypatch, signed_in(PEOPLE[role]))
    at.switch_page("app_pages/admin.py").run()
    assert not at.exception
    assert not any(t.value == "Admin" for t in at.title)
    assert not at.get("form") and not at.text_area


def test_an_admin_invites_people_and_the_log_names_them(install, monkeypatch):
    at = _admin_page(install, monkeypatch)
    at.text_input[0].input("New.Buyer@Acme.example")
    at.selectbox[0].select("buyer")
    at.button[0].click().run()  # "Invite or change role"
    assert not at.exception and "new.buyer@acme.example is now buyer" in at.success[0].value
    assert ("new.buyer@acme.example", "buyer") in tenancy.members("acme", install)
    eng = workbench.engine(install / "companies" / "acme")
    with eng.connect() as conn:
        row = conn.execute(
            sa.select(workbench.audit_log.c.actor, workbench.audit_log.c.entity_key)
            .order_by(workbench.audit_log.c.id.desc())
            .limit(1)
        ).one()
    assert tuple(row) == (PEOPLE["admin"], "new.buyer@acme.example")
    at.text_input[0].input("not-an-email")
    at.button[0].click().run()
    assert "not an email address" in at.error[0].value


def test_settings_are_checked_before_they_are_saved(install, monkeypatch):
    path = install / "companies" / "acme" / "stockroom.toml"
    at = _admin_page(install, monkeypatch)
    at.text_area[0].input('[schedule]\nsync = "25:00"\n')
    next(b for b in at.button if b.label == "Check and save").click().run()
    assert "stockroom.toml" in at.error[0].value and "schedule.sync" in at.error[0].value
    assert not path.exists()  # nothing saved
    good = (
        '[[sources]]\nname = "shop-orders"\nkind = "files"\npaths = ["raw/orders.csv"]\n'
        'import = "orders"\n'
    )
    at.text_area[0].input(good)
    next(b for b in at.button if b.label == "Check and save").click().run()
    assert "Sources: shop-orders" in at.success[0].value
    assert path.read_text() == good


def test_a_secret_is_saved_encrypted_and_never_shown_again(install, monkeypatch):
    from stockroom import vault

    at = _admin_page(install, monkeypatch)
    token = "ebay-token-do-not-show-7f3a"
    source = next(t for t in at.text_input if t.label == "Source")
    value = next(t for t in at.text_input if t.label == "API token")
    source.input("ebay")
    value.input(token)
    next(b for b in at.button if b.label == "Save the token").click().run()
    assert not at.exception
    root = install / "companies" / "acme"
    assert vault.token(root, "ebay") == token
    # the page lists the name and who set it, never the value; nor does the database in clear
    shown = [
        str(e.value)
        for kind in ("text_input", "markdown", "caption", "success")
        for e in at.get(kind)
    ]
    assert not any(token in s for s in shown), shown
    assert vault.names(root)["name"].to_list() == ["token:ebay"]
    assert token.encode() not in (root / "workbench.db").read_bytes()
    # and another company never gets it, nor the install's own token
    monkeypatch.setenv("STOCKROOM_EBAY_TOKEN", "the-install-token")
    assert vault.token(install / "companies" / "globex", "ebay") is None


def test_an_admin_adds_a_company_and_becomes_its_admin(install, monkeypatch):
    at = _admin_page(install, monkeypatch)
    next(t for t in at.text_input if t.label == "Id").input("acme-eu")
    next(t for t in at.text_input if t.label == "Name").input("Acme Europe")
    next(b for b in at.button if b.label == "Add the company").click().run()
    assert not at.exception and "Acme Europe added" in at.success[0].value
    assert ("acme-eu", "Acme Europe") in tenancy.all_companies(install)
    assert tenancy.members("acme-eu", install) == [(PEOPLE["admin"], "admin")]
    assert (install / "companies" / "acme-eu").is_dir()
