"""Admin: the company's people and roles, its sources and schedule, its secrets, new companies.

Admins only (the page is not listed for other roles, and stops if opened anyway). Every change
is signed by the admin and written to the company's audit log; secrets are stored encrypted and
never shown back.
"""

from __future__ import annotations

import streamlit as st

from app_pages import _common
from stockroom import config, sources, tenancy, vault
from stockroom.errors import StockroomError

who = _common.identity()
st.title("Admin")
if not who.may("admin"):  # not listed for them; a typed URL gets this and nothing else
    st.error(tenancy.refusal(who.role, "admin"), icon=":material/block:")
    st.stop()
actor = _common.signer("change the company's people and settings", "admin")
root = config.company_root(who.company_id)  # always the company's own root, never a demo's
st.caption(f"{who.company_name} (`{who.company_id}`) · data root `{root}`")

people, settings_tab, secrets_tab, new_tab = st.tabs(
    ["People", "Sources & schedule", "Secrets", "New company"]
)

with people:
    members = tenancy.members(who.company_id)
    st.dataframe(
        [{"email": e, "role": r} for e, r in members],
        hide_index=True,
        width="stretch",
        column_config={"email": "Person (sign-in email)", "role": "Role"},
    )
    st.caption(
        "Roles: admin (people, sources, settings, secrets), buyer (order today, purchase "
        "orders, repricing, imports), analyst (every view, reports, exports), viewer (read "
        "only). People sign in with the identity provider under their email."
    )
    with st.form("admin-invite", clear_on_submit=True):
        email_col, role_col = st.columns([3, 1])
        email = email_col.text_input("Email", placeholder="name@company.com")
        role = role_col.selectbox("Role", tenancy.ROLES, index=tenancy.ROLES.index("viewer"))
        if st.form_submit_button("Invite or change role", disabled=actor is None) and actor:
            try:
                tenancy.invite(who.company_id, email, role, actor=actor)
                st.success(f"{tenancy.normalise_email(email)} is now {role}.")
            except ValueError as exc:
                st.error(str(exc))
    others = [e for e, _ in members if e != who.email]
    if others:
        with st.form("admin-remove"):
            gone = st.selectbox("Remove a person", others)
            if st.form_submit_button("Remove", disabled=actor is None) and actor:
                tenancy.remove(who.company_id, gone, actor=actor)
                st.success(f"{gone} no longer belongs to {who.company_name}.")
                st.rerun()

with settings_tab:
    path = root / sources.CONFIG_FILE
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    st.caption(
        f"`{sources.CONFIG_FILE}`: the company's sources, the daily schedule and alerts "
        "(checked before it is saved; tokens go in Secrets, never here). Example in the "
        "README, section Your own business."
    )
    with st.form("admin-settings"):
        text = st.text_area("stockroom.toml", current, height=320)
        if st.form_submit_button("Check and save", disabled=actor is None) and actor:
            try:
                saved = sources.save(root, text, actor=actor)
                names = ", ".join(s.name for s in saved.sources) or "none"
                st.success(f"Saved. Sources: {names}.")
            except StockroomError as exc:
                st.error(str(exc))

with secrets_tab:
    stored = vault.names(root)
    st.dataframe(
        stored,
        hide_index=True,
        width="stretch",
        column_config={
            "name": "Secret",
            "updated_by": "Set by",
            "updated_at": st.column_config.DatetimeColumn(
                "Set at (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
    )
    st.caption("Stored encrypted; the values are never shown again, only replaced or removed.")

    def save_token() -> None:
        """Store the typed token, then empty the field before anything is drawn again (the
        value never travels back to the browser)."""
        source = st.session_state["admin-secret-source"].strip()
        try:
            vault.put(root, vault.secret_name(source), st.session_state["admin-token"], actor=actor)
            st.session_state["admin-secret-said"] = ("success", f"Token of {source} saved.")
        except ValueError as exc:
            st.session_state["admin-secret-said"] = ("error", str(exc))
        st.session_state["admin-token"] = ""

    with st.form("admin-secret"):
        source_col, value_col = st.columns([1, 2])
        source_col.text_input("Source", placeholder="ebay", key="admin-secret-source")
        value_col.text_input("API token", type="password", key="admin-token")
        st.form_submit_button("Save the token", disabled=actor is None, on_click=save_token)
    said = st.session_state.pop("admin-secret-said", None)
    if said:
        getattr(st, said[0])(said[1])
    if stored.height:
        with st.form("admin-secret-remove"):
            name = st.selectbox("Remove a secret", stored["name"].to_list())
            if st.form_submit_button("Remove", disabled=actor is None) and actor:
                vault.remove(root, name, actor=actor)
                st.rerun()

with new_tab:
    st.caption(
        "A new company gets its own data root and workbench rows; you become its admin. "
        "Nothing of this company is shared with it."
    )
    with st.form("admin-company", clear_on_submit=True):
        id_col, name_col = st.columns([1, 2])
        new_id = id_col.text_input("Id", placeholder="acme-eu", help="Lower-case, digits, dashes.")
        new_name = name_col.text_input("Name", placeholder="Acme Europe Ltd")
        if st.form_submit_button("Add the company", disabled=actor is None) and actor:
            try:
                tenancy.add_company(new_id.strip(), new_name, actor=actor, admin_email=who.email)
                st.success(f"{new_name} added; pick it in the sidebar.")
            except ValueError as exc:
                st.error(str(exc))
