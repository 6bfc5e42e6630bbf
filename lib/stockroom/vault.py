"""A company's secrets (marketplace API tokens): stored encrypted, used by its jobs, never shown.

Each secret is a row of ``company_secrets`` in the company's workbench (so it is kept apart like
every other row), encrypted with Fernet (``cryptography``: AES-128-CBC with HMAC-SHA256, the
key from :func:`stockroom.config.secret_key`). The admin page and the CLI write and list them;
nothing reads a value back out but :func:`token`, which the jobs call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from stockroom import audit, config, workbench
from stockroom.errors import ConfigError
from stockroom.workbench import company_secrets

#: longest secret accepted (characters)
MAX_CHARS = 4_096


def _fernet(root: Path) -> Fernet:
    try:
        return Fernet(config.secret_key(config.install_of(root)))
    except ValueError as exc:
        raise ConfigError(
            f"STOCKROOM_SECRET_KEY is not a Fernet key ({exc}): 32 url-safe base64-encoded bytes"
        ) from None


def secret_name(source: str) -> str:
    """The stored name of ``source``'s API token (``token:<source>``)."""
    return f"token:{source}"


def put(root: Path, name: str, value: str, *, actor: str) -> None:
    """Store (or replace) the company's secret ``name``; audited without the value. Raises
    ``ValueError`` for an empty or over-long value or name."""
    value = value.strip()
    if not value or len(value) > MAX_CHARS:
        raise ValueError(f"a secret is 1 to {MAX_CHARS:,} characters")
    if not name.strip() or len(name) > 128:
        raise ValueError("a secret needs a name of 1 to 128 characters")
    ciphertext = _fernet(root).encrypt(value.encode()).decode()
    now = datetime.now(UTC)
    eng = workbench.engine(root)
    with eng.begin() as conn:
        old = conn.execute(
            sa.select(company_secrets.c.name).where(company_secrets.c.name == name)
        ).first()
        values = {"ciphertext": ciphertext, "updated_by": actor, "updated_at": now}
        if old:
            conn.execute(
                company_secrets.update().where(company_secrets.c.name == name).values(**values)
            )
        else:
            conn.execute(company_secrets.insert().values(name=name, **values))
        audit.append(
            conn,
            [audit.entry(actor, "secret", name, None, {"set": True}, "replaced" if old else "set")],
        )


def remove(root: Path, name: str, *, actor: str) -> bool:
    """Delete the company's secret ``name`` (audited); False when there was none."""
    eng = workbench.engine(root)
    with eng.begin() as conn:
        gone = conn.execute(company_secrets.delete().where(company_secrets.c.name == name)).rowcount
        if gone:
            audit.append(conn, [audit.entry(actor, "secret", name, {"set": True}, None, "removed")])
    return bool(gone)


def names(root: Path) -> pl.DataFrame:
    """The company's secrets without their values: name (str), updated_by (str), updated_at
    (datetime, UTC), by name."""
    with workbench.engine(root).connect() as conn:
        rows = conn.execute(
            sa.select(
                company_secrets.c.name, company_secrets.c.updated_by, company_secrets.c.updated_at
            ).order_by(company_secrets.c.name)
        ).all()
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"name": pl.String, "updated_by": pl.String, "updated_at": pl.Datetime("us")},
        orient="row",
    )


def token(root: Path, source: str) -> str | None:
    """The API token of ``source`` for the company of ``root``: its stored secret; for the
    local company only, else ``STOCKROOM_<SOURCE>_TOKEN`` / ``.streamlit/secrets.toml``
    (:func:`stockroom.config.source_token`) -- another company never gets the install's own
    tokens. None when there is none. Raises :class:`~stockroom.errors.ConfigError` when the
    stored secret cannot be decrypted (the install's key changed)."""
    name = secret_name(source)
    with workbench.engine(root).connect() as conn:
        stored = conn.execute(
            sa.select(company_secrets.c.ciphertext).where(company_secrets.c.name == name)
        ).scalar()
    if stored is not None:
        try:
            return _fernet(root).decrypt(stored.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                f"the stored secret {name!r} does not decrypt with this install's key "
                "(STOCKROOM_SECRET_KEY changed?): enter it again on the Admin page"
            ) from None
    if config.company_of(Path(root)) == config.LOCAL_COMPANY:
        return config.source_token(source)
    return None
