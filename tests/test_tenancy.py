"""Companies kept apart: the directory (companies, memberships, roles) and the one place that
isolates them (the workbench engine: a SQLite file per company; row-level security on
PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from stockroom import audit, config, tenancy, workbench
from stockroom.errors import ConfigError, InputError
from stockroom.workbench import catalog, job_runs, purchase_order_headers


def test_each_role_may_take_exactly_its_actions():
    expected = {
        "admin": {"view", "export", "order", "reprice", "map", "import", "admin"},
        "buyer": {"view", "export", "order", "reprice", "map", "import"},
        "analyst": {"view", "export"},
        "viewer": {"view"},
    }
    for role, actions in expected.items():
        assert {a for a in tenancy.PERMISSIONS if tenancy.allowed(role, a)} == actions
    assert not any(tenancy.allowed(None, a) for a in tenancy.PERMISSIONS)
    assert re.search(r"viewer.*place orders.*admin or buyer", tenancy.refusal("viewer", "order"))
    assert tenancy.refusal("buyer", "order") is None  # no refusal


def test_a_company_has_its_root_members_and_audit_trail(tmp_path):
    root = tenancy.add_company(
        "acme", "Acme Trading", actor="ops", admin_email=" Ana@Acme.com ", install_root=tmp_path
    )
    assert root == tmp_path / "companies" / "acme" and root.is_dir()
    assert config.company_of(root) == "acme"
    tenancy.invite("acme", "bo@acme.com", "viewer", actor="ana@acme.com", install_root=tmp_path)
    tenancy.invite("acme", "bo@acme.com", "buyer", actor="ana@acme.com", install_root=tmp_path)
    assert tenancy.members("acme", tmp_path) == [
        ("ana@acme.com", "admin"),
        ("bo@acme.com", "buyer"),
    ]
    (mine,) = tenancy.memberships_of("BO@acme.com", tmp_path)
    assert (mine.company_id, mine.name, mine.role, mine.root) == (
        "acme",
        "Acme Trading",
        "buyer",
        root,
    )
    assert tenancy.memberships_of("nobody@acme.com", tmp_path) == []
    assert tenancy.memberships_of("not an email", tmp_path) == []
    # the company's own audit log says who did what, and the chain holds
    eng = workbench.engine(root)
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(
                workbench.audit_log.c.actor,
                workbench.audit_log.c.entity_key,
                workbench.audit_log.c.reason,
            ).order_by(workbench.audit_log.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("ops", "acme", "created"),
        ("ops", "ana@acme.com", "invited"),
        ("ana@acme.com", "bo@acme.com", "invited"),
        ("ana@acme.com", "bo@acme.com", "role changed"),
    ]
    assert audit.verify(eng).ok
    # the install's own workbench holds none of it
    assert audit.head(workbench.engine(tmp_path))[0] == 0
    tenancy.remove("acme", "bo@acme.com", actor="ana@acme.com", install_root=tmp_path)
    assert tenancy.members("acme", tmp_path) == [("ana@acme.com", "admin")]


@pytest.mark.parametrize(
    ("company_id", "name", "message"),
    [
        ("../other", "X", "not a company id"),
        ("Acme", "X", "not a company id"),
        ("acme", " ", "needs a name"),
    ],
)
def test_a_bad_company_is_refused_and_nothing_is_written(tmp_path, company_id, name, message):
    with pytest.raises(ValueError, match=message):
        tenancy.add_company(company_id, name, actor="ops", install_root=tmp_path)
    assert tenancy.all_companies(tmp_path) == []
    assert not (tmp_path / "companies").exists()


def test_bad_invites_are_refused(tmp_path):
    tenancy.add_company("acme", "Acme", actor="ops", install_root=tmp_path)
    with pytest.raises(ValueError, match="exists already"):
        tenancy.add_company("acme", "Acme again", actor="ops", install_root=tmp_path)
    with pytest.raises(ValueError, match="role must be one of"):
        tenancy.invite("acme", "a@b.co", "owner", actor="ops", install_root=tmp_path)
    with pytest.raises(ValueError, match="not an email"):
        tenancy.invite("acme", "a-at-b", "viewer", actor="ops", install_root=tmp_path)
    with pytest.raises(ValueError, match="no company 'globex'"):
        tenancy.invite("globex", "a@b.co", "viewer", actor="ops", install_root=tmp_path)
    with pytest.raises(InputError, match="no company 'globex'.*registered: acme"):
        tenancy.resolve("globex", tmp_path)
    assert tenancy.resolve("acme", tmp_path) == tmp_path / "companies" / "acme"
    assert tenancy.members("acme", tmp_path) == []


def test_one_sqlite_file_never_serves_two_companies(tmp_path, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DB_URL", f"sqlite:///{tmp_path / 'shared.db'}")
    local = workbench.engine(tmp_path / "data")
    workbench.start_run(local, "run-1", "ingest", "orders.csv")
    with pytest.raises(ConfigError, match="holds rows of company 'local'.*PostgreSQL"):
        workbench.engine(tmp_path / "data" / "companies" / "acme")
    # the local company's rows are untouched
    assert workbench.runs(local)["run_id"].to_list() == ["run-1"]


def _write_company(eng: sa.Engine, title: str) -> None:
    """The same keys in every company: SKU A1, PO-0001, run-1, an audited change."""
    now = audit.datetime.now(audit.UTC)
    workbench.start_run(eng, "run-1", "ingest", f"{title}.csv")
    with eng.begin() as conn:
        conn.execute(catalog.insert().values(sku="A1", kind="card", title=title, created_at=now))
        conn.execute(
            purchase_order_headers.insert().values(
                po_number="PO-0001",
                supplier=f"{title} supplier",
                order_date=date(2026, 12, 1),
                created_by=title,
                created_at=now,
            )
        )
        audit.append(conn, [audit.entry(title, "catalog", "A1", None, {"title": title}, "new")])


def test_on_postgresql_row_level_security_keeps_companies_apart(tmp_path, postgres, monkeypatch):
    monkeypatch.setenv("STOCKROOM_DB_URL", postgres)
    tenancy.add_company("acme", "Acme", actor="ops", install_root=tmp_path)
    tenancy.add_company("globex", "Globex", actor="ops", install_root=tmp_path)
    acme = workbench.engine(tmp_path / "companies" / "acme")
    globex = workbench.engine(tmp_path / "companies" / "globex")
    _write_company(acme, "Acme")
    _write_company(globex, "Globex")

    for eng, me in ((acme, "Acme"), (globex, "Globex")):
        with eng.connect() as conn:
            # every read sees its own company only, with no WHERE clause anywhere
            assert conn.execute(sa.select(catalog.c.title)).scalars().all() == [me]
            assert (
                conn.execute(sa.text("SELECT count(*) FROM purchase_order_headers")).scalar() == 1
            )
            assert conn.execute(sa.select(job_runs.c.source)).scalars().all() == [f"{me}.csv"]
            # asking for the other company by name returns nothing
            other = "globex" if me == "Acme" else "acme"
            assert (
                conn.execute(
                    sa.text("SELECT count(*) FROM catalog WHERE company_id = :c"), {"c": other}
                ).scalar()
                == 0
            )
        assert audit.verify(eng).ok  # each company's chain on its own
    # a write aimed at the other company is refused by the policy, an update touches only mine
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        with acme.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO catalog (company_id, sku, kind, created_at) "
                    "VALUES ('globex', 'B2', 'card', now())"
                )
            )
    with acme.begin() as conn:
        changed = conn.execute(sa.text("UPDATE catalog SET title = 'pwned'")).rowcount
        gone = conn.execute(sa.text("DELETE FROM purchase_order_headers WHERE true")).rowcount
    assert (changed, gone) == (1, 1)
    with globex.connect() as conn:
        assert conn.execute(sa.select(catalog.c.title)).scalars().all() == ["Globex"]
        assert conn.execute(sa.text("SELECT count(*) FROM purchase_order_headers")).scalar() == 1
    # the shared pool's own engine (no company set) sees no company's rows
    with workbench._engine(postgres).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM catalog")).scalar() == 0


def test_postgresql_reached_as_a_superuser_is_refused(tmp_path, postgres, monkeypatch):
    superuser = sa.make_url(postgres).set(username="postgres", database="postgres")
    monkeypatch.setenv("STOCKROOM_DB_URL", superuser.render_as_string(hide_password=False))
    with pytest.raises(ConfigError, match="'postgres', a superuser.*row-level security"):
        workbench.engine(tmp_path)


def test_on_postgresql_0009_goes_down_and_up_again(postgres):
    from alembic import command
    from alembic.config import Config

    eng = sa.create_engine(postgres)
    cfg = Config()
    cfg.set_main_option("script_location", str(workbench.MIGRATIONS))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        assert "company_id" in {c["name"] for c in sa.inspect(conn).get_columns("catalog")}
        command.downgrade(cfg, "0008")
        assert "company_id" not in {c["name"] for c in sa.inspect(conn).get_columns("catalog")}
        assert sa.inspect(conn).get_pk_constraint("purchase_orders")["constrained_columns"] == [
            "po_number",
            "sku",
        ]
        command.upgrade(cfg, "head")
        assert sa.inspect(conn).get_pk_constraint("purchase_orders")["constrained_columns"] == [
            "company_id",
            "po_number",
            "sku",
        ]
    eng.dispose()


def test_one_scheduler_runs_every_company_on_its_own_data(tmp_path):
    from typer.testing import CliRunner

    from stockroom_jobs import daily
    from stockroom_jobs.cli import app

    for company_id, hour in (("acme", "05:00"), ("globex", "09:30")):
        root = tenancy.add_company(
            company_id, company_id.title(), actor="ops", install_root=tmp_path
        )
        (root / "stockroom.toml").write_text(f'[schedule]\nsync = "{hour}"\ntimezone = "UTC"\n')
    sched = daily.install_scheduler(tmp_path, blocking=False)
    names = {job.name for job in sched.get_jobs()}
    assert {"acme: sync at 05:00 UTC", "globex: sync at 09:30 UTC"} <= names
    # a company added later is picked up by the scheduler's own refresh
    tenancy.add_company("initech", "Initech", actor="ops", install_root=tmp_path)
    sched.get_job("stockroom-companies").func()
    assert sched.get_job("stockroom-initech-sync") is not None
    # one catch-up pass over every company: each one's steps land in its own workbench only
    result = CliRunner().invoke(
        app, ["schedule", "--all-companies", "--once", "--data-root", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    for company_id in ("acme", "globex", "initech"):
        eng = workbench.engine(tmp_path / "companies" / company_id)
        with eng.connect() as conn:
            steps = conn.execute(sa.select(workbench.daily_steps.c.company_id)).scalars().all()
        assert steps and set(steps) == {company_id}
    with workbench.engine(tmp_path).connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(workbench.daily_steps)).scalar()
            == 0
        )


def test_a_new_company_opened_by_two_processes_at_once_gets_one_chain_head(
    tmp_path, postgres, monkeypatch
):
    """Another process creates the company's chain head between this one's check and its
    insert (forced with a hook after the check): this one carries on with that head."""
    monkeypatch.setenv("STOCKROOM_DB_URL", postgres)
    base = workbench._engine(postgres)  # migrated; company initech never opened yet
    other = sa.create_engine(postgres, poolclass=sa.pool.NullPool)
    raced = []

    def the_other_process(conn, cursor, statement, *args):
        if not raced and statement.startswith("SELECT audit_head.id"):
            raced.append(statement)
            with other.begin() as o:
                o.exec_driver_sql("SELECT set_config('stockroom.company', 'initech', true)")
                o.execute(
                    workbench.audit_head.insert().values(
                        id=1, last_id=0, last_at=None, hash="0" * 64, company_id="initech"
                    )
                )

    sa.event.listen(base, "after_cursor_execute", the_other_process)
    try:
        eng = workbench.engine(tmp_path / "companies" / "initech")
    finally:
        sa.event.remove(base, "after_cursor_execute", the_other_process)
        other.dispose()
    assert raced
    with eng.begin() as conn:
        audit.append(conn, [audit.entry("ops", "x", "k", None, {"a": 1}, "after the race")])
    assert audit.head(eng)[0] == 1 and audit.verify(eng).ok
