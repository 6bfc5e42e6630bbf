"""``stockroom company``: the companies of this install, their people and roles.

The install's directory (:mod:`stockroom.tenancy`); each company's own data lives under its data
root (``<data root>/companies/<id>``), which ``stockroom --company <id> <command>`` opens.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from stockroom import config
from stockroom_jobs.cli.common import DataRootOption, console

app = typer.Typer(help=__doc__, no_args_is_help=True, rich_markup_mode="markdown")


def _install_only() -> None:
    """The directory is the install's: its commands refuse to run scoped to one company (a
    company's operator lists or invites nobody outside it)."""
    if os.environ.get(config.ENV_COMPANY, config.LOCAL_COMPANY) != config.LOCAL_COMPANY:
        raise typer.BadParameter(
            "companies, people and roles are the install's: run this without --company "
            f"(and without {config.ENV_COMPANY})",
            param_hint="--company",
        )


ActorOption = Annotated[
    str | None,
    typer.Option("--actor", help="Who signs the change in the audit log. Default: the OS user."),
]


@app.command("add")
def add(
    company_id: Annotated[str, typer.Argument(help="Id: lower-case letters, digits, dashes.")],
    name: Annotated[str, typer.Option("--name", help="The company's name, as people see it.")],
    admin: Annotated[
        str | None, typer.Option("--admin", help="Email of its first admin (signs in with it).")
    ] = None,
    data_root: DataRootOption = None,
    actor: ActorOption = None,
) -> None:
    """Add a company: its data root, its workbench rows and (with --admin) its first admin."""
    _install_only()
    from stockroom import tenancy

    root = tenancy.add_company(
        company_id,
        name,
        actor=actor or config.actor(),
        admin_email=admin,
        install_root=config.data_root(data_root),
    )
    console.print(f"company {company_id} ({name}) added; its data root is {root}")


@app.command("list")
def list_companies(data_root: DataRootOption = None) -> None:
    """The companies of this install with their people and roles."""
    _install_only()
    from stockroom import tenancy

    install = config.data_root(data_root)
    table = Table("company", "name", "data root", "people (role)")
    for company_id, name in tenancy.all_companies(install):
        people = ", ".join(f"{e} ({r})" for e, r in tenancy.members(company_id, install))
        table.add_row(company_id, name, str(config.company_root(company_id, install)), people)
    console.print(table)


@app.command("invite")
def invite(
    company_id: Annotated[str, typer.Argument(help="The company.")],
    email: Annotated[str, typer.Argument(help="The person's sign-in email.")],
    role: Annotated[
        str, typer.Option("--role", help="admin, buyer, analyst or viewer.")
    ] = "viewer",
    data_root: DataRootOption = None,
    actor: ActorOption = None,
) -> None:
    """Give a person a role in a company (or change it); they sign in with that email."""
    _install_only()
    from stockroom import tenancy

    tenancy.invite(
        company_id,
        email,
        role,
        actor=actor or config.actor(),
        install_root=config.data_root(data_root),
    )
    console.print(f"{tenancy.normalise_email(email)} is {role} of {company_id}")


@app.command("remove")
def remove(
    company_id: Annotated[str, typer.Argument(help="The company.")],
    email: Annotated[str, typer.Argument(help="The person's sign-in email.")],
    data_root: DataRootOption = None,
    actor: ActorOption = None,
) -> None:
    """Take a person's membership of a company away."""
    _install_only()
    from stockroom import tenancy

    tenancy.remove(
        company_id, email, actor=actor or config.actor(), install_root=config.data_root(data_root)
    )
    console.print(f"{tenancy.normalise_email(email)} no longer belongs to {company_id}")


@app.command("set-secret")
def set_secret(
    source: Annotated[str, typer.Argument(help="The source whose API token this is (ebay, ...).")],
    data_root: DataRootOption = None,
    actor: ActorOption = None,
) -> None:
    """Store a source's API token for the company (`stockroom --company X company set-secret
    ebay`): typed at a hidden prompt (or piped on stdin), encrypted, never shown again."""
    from stockroom import vault

    value = typer.prompt(f"{source} token", hide_input=True)
    root = config.data_root(data_root)
    vault.put(root, vault.secret_name(source), value, actor=actor or config.actor())
    console.print(f"{vault.secret_name(source)} stored for company {config.company_of(root)}")


@app.command("secrets")
def list_secrets(data_root: DataRootOption = None) -> None:
    """The company's stored secrets: names, who set them and when (never the values)."""
    from stockroom import vault

    table = Table("secret", "set by", "set at (UTC)")
    for name, who, at in vault.names(config.data_root(data_root)).iter_rows():
        table.add_row(name, who, f"{at:%Y-%m-%d %H:%M}")
    console.print(table)
