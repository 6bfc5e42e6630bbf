"""Companies, memberships and roles: who may see which company's data and do what with it.

The directory lives in the install's workbench database (the one of the install's data root,
:func:`stockroom.config.data_root`; on the shared install the PostgreSQL database every company
shares): ``companies`` (id, name) and ``memberships`` (email, company, role). A person signs in
with the identity provider (Streamlit's OIDC sign-in, see ``app.py``); their email is looked up
here. Companies are kept apart below this module, in :func:`stockroom.workbench.engine`.

Roles (:data:`ROLES`) and what each may do (:data:`PERMISSIONS`):

| action | admin | buyer | analyst | viewer |
|---|---|---|---|---|
| view (every page but Admin) | yes | yes | yes | yes |
| export (downloads, reports) | yes | yes | yes | no |
| order (place orders, PO receipts, order settings) | yes | yes | no | no |
| reprice (resale prices and item edits) | yes | yes | no | no |
| map (approve / merge mappings and Sellers) | yes | yes | no | no |
| import (upload files, invoices) | yes | yes | no | no |
| admin (companies, users, sources, schedule, secrets) | yes | no | no | no |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import sqlalchemy as sa

from stockroom import audit, config, workbench
from stockroom.errors import InputError, InputProblem
from stockroom.workbench import companies, memberships

Role = Literal["admin", "buyer", "analyst", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "buyer", "analyst", "viewer")
Action = Literal["view", "export", "order", "reprice", "map", "import", "admin"]
#: action -> the roles that may take it (the table in the module docstring)
PERMISSIONS: dict[Action, frozenset[Role]] = {
    "view": frozenset(ROLES),
    "export": frozenset({"admin", "buyer", "analyst"}),
    "order": frozenset({"admin", "buyer"}),
    "reprice": frozenset({"admin", "buyer"}),
    "map": frozenset({"admin", "buyer"}),
    "import": frozenset({"admin", "buyer"}),
    "admin": frozenset({"admin"}),
}
#: what each action is, in words (for "your role cannot ..." messages)
ACTION_WORDS: dict[Action, str] = {
    "view": "see this company's pages",
    "export": "download exports and reports",
    "order": "place orders and change order settings",
    "reprice": "change resale prices and items",
    "map": "approve, merge or split mappings and Sellers",
    "import": "import files",
    "admin": "manage the company (users, sources, schedule, secrets)",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Membership:
    """One company a person belongs to: ``company_id``, its ``name``, the person's ``role``
    and the company's data root (:func:`stockroom.config.company_root`)."""

    company_id: str
    name: str
    role: Role
    root: Path


def allowed(role: str | None, action: Action) -> bool:
    """Whether ``role`` may take ``action`` (:data:`PERMISSIONS`); no role may do nothing."""
    return role in PERMISSIONS[action]


def refusal(role: str | None, action: Action) -> str | None:
    """Why ``role`` may not take ``action``, in words naming the roles that may ("Your role
    (viewer) cannot place orders ...: that needs the admin or buyer role"); None when it may.
    What every page shows a role it turns away."""
    if allowed(role, action):
        return None
    names = sorted(PERMISSIONS[action])
    either = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return (
        f"Your role ({role or 'none'}) cannot {ACTION_WORDS[action]}: that needs the {either} role."
    )


def directory(install_root: Path | None = None) -> sa.Engine:
    """The engine of the install's directory (the install data root's workbench database)."""
    return workbench.engine(install_root or config.data_root())


def _member(email: str, company_id: str) -> sa.ColumnElement[bool]:
    """The membership row of ``email`` in ``company_id``."""
    return (memberships.c.email == email) & (memberships.c.company_id == company_id)


def _now() -> datetime:
    return datetime.now(UTC)


def _audit(company_id: str, install_root: Path | None, entry: dict) -> None:
    """Append ``entry`` (:func:`stockroom.audit.entry`) to ``company_id``'s own audit log."""
    company = workbench.engine(config.company_root(company_id, install_root))
    with company.begin() as conn:
        audit.append(conn, [entry])


def normalise_email(email: str) -> str:
    """``email`` trimmed and lower-cased; raises ``ValueError`` when it is not an address."""
    value = (email or "").strip().lower()
    if not _EMAIL.match(value):
        raise ValueError(f"{email!r} is not an email address")
    return value


def add_company(
    company_id: str,
    name: str,
    *,
    actor: str,
    admin_email: str | None = None,
    install_root: Path | None = None,
) -> Path:
    """Register company ``company_id`` (:data:`stockroom.config.COMPANY_ID_PATTERN`) named
    ``name``, create its data root and workbench rows, and make ``admin_email`` (if given) its
    admin. Returns the data root. Raises ``ValueError`` for a bad id or an id already taken
    (nothing is written then). Recorded in the new company's audit log, signed by ``actor``."""
    root = config.company_root(company_id, install_root)  # validates the id
    if not name.strip():
        raise ValueError("a company needs a name")
    eng = directory(install_root)
    with eng.begin() as conn:
        taken = conn.execute(
            sa.select(companies.c.company_id).where(companies.c.company_id == company_id)
        ).first()
        if taken:
            raise ValueError(f"company {company_id!r} exists already")
        conn.execute(
            companies.insert().values(
                company_id=company_id, name=name.strip(), created_by=actor, created_at=_now()
            )
        )
    root.mkdir(parents=True, exist_ok=True)
    entry = audit.entry(actor, "company", company_id, None, {"name": name.strip()}, "created")
    _audit(company_id, install_root, entry)
    if admin_email:
        invite(company_id, admin_email, "admin", actor=actor, install_root=install_root)
    return root


def invite(
    company_id: str,
    email: str,
    role: str,
    *,
    actor: str,
    install_root: Path | None = None,
) -> None:
    """Give ``email`` the ``role`` in ``company_id`` (a new membership, or a changed role).

    The person signs in with the identity provider under that email; nothing else is stored
    about them here. Audited in the company's log. Raises ``ValueError`` for an unknown
    company, a bad email or a role not in :data:`ROLES`."""
    email = normalise_email(email)
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    eng = directory(install_root)
    with eng.begin() as conn:
        if not conn.execute(
            sa.select(companies.c.company_id).where(companies.c.company_id == company_id)
        ).first():
            raise ValueError(f"no company {company_id!r}")
        old = conn.execute(sa.select(memberships.c.role).where(_member(email, company_id))).scalar()
        if old == role:
            return
        if old is None:
            conn.execute(
                memberships.insert().values(
                    email=email,
                    company_id=company_id,
                    role=role,
                    invited_by=actor,
                    invited_at=_now(),
                )
            )
        else:
            conn.execute(memberships.update().where(_member(email, company_id)).values(role=role))
    change = None if old is None else {"role": old}
    why = "invited" if old is None else "role changed"
    _audit(
        company_id,
        install_root,
        audit.entry(actor, "membership", email, change, {"role": role}, why),
    )


def remove(company_id: str, email: str, *, actor: str, install_root: Path | None = None) -> None:
    """Take ``email``'s membership of ``company_id`` away (audited); unknown ones are a no-op."""
    email = normalise_email(email)
    eng = directory(install_root)
    with eng.begin() as conn:
        old = conn.execute(sa.select(memberships.c.role).where(_member(email, company_id))).scalar()
        if old is None:
            return
        conn.execute(memberships.delete().where(_member(email, company_id)))
    entry = audit.entry(actor, "membership", email, {"role": old}, None, "removed")
    _audit(company_id, install_root, entry)


def memberships_of(email: str, install_root: Path | None = None) -> list[Membership]:
    """The companies ``email`` belongs to, by company name (empty: none, or not an email)."""
    try:
        email = normalise_email(email)
    except ValueError:
        return []
    query = (
        sa.select(companies.c.company_id, companies.c.name, memberships.c.role)
        .join(memberships, memberships.c.company_id == companies.c.company_id)
        .where(memberships.c.email == email)
        .order_by(companies.c.name)
    )
    with directory(install_root).connect() as conn:
        rows = conn.execute(query).all()
    return [Membership(c, n, r, config.company_root(c, install_root)) for c, n, r in rows]


def all_companies(install_root: Path | None = None) -> list[tuple[str, str]]:
    """Every registered company as (id, name), by name."""
    with directory(install_root).connect() as conn:
        rows = conn.execute(
            sa.select(companies.c.company_id, companies.c.name).order_by(companies.c.name)
        ).all()
    return [(c, n) for c, n in rows]


def company_roots(install_root: Path | None = None) -> list[Path]:
    """The data root of every registered company (the all-companies scheduler's list)."""
    return [config.company_root(c, install_root) for c, _ in all_companies(install_root)]


def members(company_id: str, install_root: Path | None = None) -> list[tuple[str, str]]:
    """The people of ``company_id`` as (email, role), by email."""
    with directory(install_root).connect() as conn:
        rows = conn.execute(
            sa.select(memberships.c.email, memberships.c.role)
            .where(memberships.c.company_id == company_id)
            .order_by(memberships.c.email)
        ).all()
    return [(e, r) for e, r in rows]


def resolve(company_id: str, install_root: Path | None = None) -> Path:
    """The data root of a registered company (the CLI's ``--company``); raises
    :class:`~stockroom.errors.InputError` naming the registered ones when it is not."""
    known = dict(all_companies(install_root))
    if company_id == config.LOCAL_COMPANY or company_id in known:
        return config.company_root(company_id, install_root)
    listed = ", ".join(sorted(known)) or "none yet"
    raise InputError(
        [
            InputProblem(
                "--company",
                None,
                None,
                f"no company {company_id!r} on this install (registered: {listed}); add one "
                "with `stockroom company add`",
            )
        ]
    )
