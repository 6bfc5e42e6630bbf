"""Who is looking, at which company, with which role: the sign-in gate every run passes first.

Sign-in is Streamlit's built-in OpenID Connect (``st.login``): turned on by an ``[auth]`` table in
``.streamlit/secrets.toml`` (any identity provider: Google, Microsoft Entra, Okta, Keycloak,
Dex, ...). Stockroom stores no password: the provider says who the person is (their email),
the install's directory (:mod:`stockroom.tenancy`) says which companies they belong to and with
which role. A sign-in lasts :func:`stockroom.config.session_hours` from the moment the provider
issued it; then the sign-in page shows again.

Without ``[auth]`` the app is the single-user laptop tool it always was: no sign-in, the local
company (and any added on this computer), the person at the keyboard an admin who types their
name to sign decisions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from stockroom import config, tenancy


@dataclass(frozen=True)
class Identity:
    """The session's person and company: ``email`` (None on the laptop: decisions are signed
    with a typed name), ``role`` (:data:`stockroom.tenancy.ROLES`), ``company_id``,
    ``company_name`` and the company's data ``root``."""

    email: str | None
    role: str
    company_id: str
    company_name: str
    root: str

    @property
    def signed_in(self) -> bool:
        return self.email is not None

    def may(self, action: tenancy.Action) -> bool:
        return tenancy.allowed(self.role, action)


def sign_in_configured() -> bool:
    """Whether ``[auth]`` is set in Streamlit's secrets (the shared install)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False


def _sign_in_page(message: str | None = None) -> None:
    st.title("Stockroom")
    if message:
        st.warning(message, icon=":material/lock_clock:")
    st.write("Sign in with your company account to see your company's data.")
    st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
    st.stop()


def _expired() -> bool:
    issued = st.user.get("iat")
    try:
        issued = float(issued)
    except (TypeError, ValueError):
        return True  # a sign-in that does not say when it was issued is not trusted
    return time.time() - issued > config.session_hours() * 3600


def identity() -> Identity:
    """The session's :class:`Identity`, after the sign-in gate: a visitor who is not signed
    in, whose sign-in expired, or who belongs to no company sees the sign-in page (or says
    so) and the run stops there. The company is chosen in the sidebar among the person's own
    memberships only."""
    if not sign_in_configured():
        return _laptop()
    if not st.user.is_logged_in:
        _sign_in_page()
    if _expired():
        _sign_in_page(
            f"Your sign-in is older than {config.session_hours():g} hours: sign in again."
        )
    email = str(st.user.get("email") or "")
    mine = tenancy.memberships_of(email)
    if not mine:
        st.title("Stockroom")
        st.warning(
            f"You are signed in as **{email or 'an account without an email'}**, which belongs "
            "to no company on this install. Ask your company's admin to invite you.",
            icon=":material/no_accounts:",
        )
        st.button("Sign out", on_click=st.logout)
        st.stop()
    by_id = {m.company_id: m for m in mine}
    chosen = st.session_state.get("company")
    if chosen not in by_id:
        chosen = mine[0].company_id
        st.session_state["company"] = chosen
    with st.sidebar:
        if len(mine) > 1:
            st.selectbox(
                "Company",
                list(by_id),
                key="company",
                format_func=lambda c: by_id[c].name,
                help="The companies you belong to; every page shows the chosen one's data.",
            )
        m = by_id[st.session_state["company"]]
        st.caption(f"Signed in as {tenancy.normalise_email(email)} · {m.name} · {m.role}")
        st.button("Sign out", on_click=st.logout, key="sign-out", icon=":material/logout:")
    return Identity(tenancy.normalise_email(email), m.role, m.company_id, m.name, str(m.root))


def _laptop() -> Identity:
    """No sign-in: the local company or one added on this computer; a demo button may open a
    demo data root (kept in ``session_state["data-root"]``)."""
    install = config.data_root()
    names = {config.LOCAL_COMPANY: "This computer", **dict(tenancy.all_companies(install))}
    if len(names) > 1:
        with st.sidebar:
            st.selectbox(
                "Company",
                list(names),
                key="company",
                format_func=lambda c: names[c],
                on_change=lambda: st.session_state.update(
                    {"data-root": str(config.company_root(st.session_state["company"], install))}
                ),
                help="Companies on this computer (`stockroom company add`).",
            )
    company = st.session_state.get("company", config.LOCAL_COMPANY)
    if company not in names:
        company = config.LOCAL_COMPANY
    root = st.session_state.setdefault("data-root", str(config.company_root(company, install)))
    return Identity(None, "admin", config.company_of(root), names.get(company, company), root)
