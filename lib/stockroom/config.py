"""The one place that knows where things are, and the one module that reads ``STOCKROOM_*``
settings from the environment (every other module asks here).

| setting | read by | meaning |
|---|---|---|
| ``STOCKROOM_DATA_ROOT`` | :func:`data_root` | where snapshots, reports and models live |
| ``STOCKROOM_DB_URL`` | :func:`db_url` | the workbench database (SQLAlchemy URL) |
| ``STOCKROOM_<SOURCE>_TOKEN`` | :func:`source_token` | an API token per source |
| ``STOCKROOM_SIM_TOKEN`` | :func:`sim_token` | the token the local simulator demands |
| ``STOCKROOM_DEBUG`` | :func:`debug` | the CLI prints tracebacks |
| ``STOCKROOM_CHROMIUM`` | :func:`chromium` | the browser the UI tests drive |
| ``STOCKROOM_LOCK_TIMEOUT`` | :func:`lock_timeout` | wait for the writer lock, s (600) |
| ``STOCKROOM_MAX_CELL_CHARS`` | :func:`max_cell_chars` | longest cell imported (10,000) |
| ``STOCKROOM_MAX_FILE_MB`` | :func:`max_file_mb` | largest file imported, MB (1,024) |
| ``STOCKROOM_MAX_UNPACKED_MB`` | :func:`max_unpacked_mb` | workbook unpacked, MB (512) |
| ``STOCKROOM_MAX_RETRY_AFTER`` | :func:`max_retry_after` | longest Retry-After, s (300) |
| ``STOCKROOM_USER`` | :func:`actor` | who signs CLI decisions in the audit log (the OS user) |
| ``STOCKROOM_COMPANY`` | :func:`company_root` | the company a CLI command works on (``local``) |
| ``STOCKROOM_SESSION_HOURS`` | :func:`session_hours` | a sign-in lasts this long, h (12) |
| ``STOCKROOM_SECRET_KEY`` | :func:`secret_key` | the key companies' secrets are encrypted with |

Settings are read on every call (not at import), so a test or a child process that sets one
sees it.

Data root resolution order (first hit wins):

1. an explicit ``data_root`` argument (CLI ``--data-root``, page sidebar, notebook parameter);
2. the ``STOCKROOM_DATA_ROOT`` environment variable;
3. ``[tool.stockroom] data_root`` in the project's ``pyproject.toml`` (relative to that file);
4. ``./data`` under the project root.

Everything else (snapshots, reports, staging) lives under the data root, so pointing the data
root somewhere else moves the whole workbench.

Companies: the data root above is the install's, and also the root of the *local* company (the
laptop's one company, :data:`LOCAL_COMPANY`). Every other company's data root is
``<install data root>/companies/<company id>`` (:func:`company_root`); the company of a data root
is read back from its path (:func:`company_of`), so a page or a job that holds a data root
holds its company, and nobody passes the two separately.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # lib/stockroom/config.py -> project
ENV_DATA_ROOT = "STOCKROOM_DATA_ROOT"
ENV_DB_URL = "STOCKROOM_DB_URL"
ENV_SIM_TOKEN = "STOCKROOM_SIM_TOKEN"
ENV_DEBUG = "STOCKROOM_DEBUG"
ENV_CHROMIUM = "STOCKROOM_CHROMIUM"
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
#: The sales window (days ending on the as-of date) the app opens on and the reports use
#: unless told otherwise, so a page and a report answer the same question the same way.
DEFAULT_WINDOW_DAYS = 365

#: Default ceiling on the share of bad rows (0-1) before an ingestion run fails and lands nothing.
MAX_BAD_SHARE = 0.05


def _pyproject_data_root() -> Path | None:
    pyproject = PROJECT_ROOT / "pyproject.toml"
    if not pyproject.is_file():
        return None
    with pyproject.open("rb") as fh:
        settings = tomllib.load(fh).get("tool", {}).get("stockroom", {})
    value = settings.get("data_root")
    return (PROJECT_ROOT / value).resolve() if value else None


def data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the absolute data root (it need not exist yet).

    An object-store root (``s3://bucket/prefix``) gives its local working copy, brought up to
    date with the lake once per process (:func:`stockroom.lake.attach`)."""
    value = explicit or os.environ.get(ENV_DATA_ROOT)
    if value and str(value).startswith("s3:/"):
        from stockroom import lake

        return lake.attach(value)
    root = (
        Path(value).expanduser().resolve()
        if value
        else _pyproject_data_root() or (PROJECT_ROOT / "data").resolve()
    )
    if any((folder / LAKE_MARKER).is_file() for folder in (root, *root.parents)):
        from stockroom import lake  # a company's folder inside a working copy: its own lake

        return lake.attach(lake.url_of(root))
    return root


#: The file marking the local working copy of an object-store root (:mod:`stockroom.lake`).
LAKE_MARKER = "lake.json"


def cache_dir() -> Path:
    """Where working copies of object-store roots live: ``STOCKROOM_CACHE_DIR``, default
    ``~/.cache/stockroom``."""
    env = os.environ.get("STOCKROOM_CACHE_DIR", "").strip()
    return Path(env).expanduser().resolve() if env else Path.home() / ".cache" / "stockroom"


def s3_settings() -> dict[str, str | None]:
    """The S3 connection of object-store roots: endpoint (``STOCKROOM_S3_ENDPOINT`` as
    host:port, None for AWS), use_ssl ("true"/"false", from the endpoint's scheme), key_id and
    secret (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``; None: the credential chain),
    region (``AWS_REGION`` / ``AWS_DEFAULT_REGION``, default us-east-1)."""
    endpoint = os.environ.get("STOCKROOM_S3_ENDPOINT", "").strip() or None
    use_ssl = "true"
    if endpoint is not None:
        use_ssl = "false" if endpoint.startswith("http://") else "true"
        endpoint = re.sub(r"^https?://", "", endpoint).rstrip("/")
    return {
        "endpoint": endpoint,
        "use_ssl": use_ssl,
        "key_id": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        "region": os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1",
    }


def lake_catalog() -> str | None:
    """``STOCKROOM_LAKE_CATALOG``: where object-store roots keep their DuckLake catalogs
    (``postgresql://...`` or ``sqlite:///<folder>``), or None (:func:`stockroom.lake.catalog`)."""
    return os.environ.get("STOCKROOM_LAKE_CATALOG", "").strip() or None


def dask_scheduler() -> str | None:
    """``STOCKROOM_DASK_SCHEDULER``: the Dask scheduler address (``tcp://host:8786``) heavy
    training and ``stockroom cluster`` use, or None."""
    return os.environ.get("STOCKROOM_DASK_SCHEDULER", "").strip() or None


def train_memory_mb(default: float = 4096.0) -> float:
    """``STOCKROOM_TRAIN_MEMORY_MB``: the training matrix size (MiB) above which the global model
    trains on the Dask cluster. Raises ``ValueError`` when it is not a number."""
    return float(os.environ.get("STOCKROOM_TRAIN_MEMORY_MB", "") or default)


#: The company of a single-user install (no sign-in) and of any data root outside ``companies/``.
LOCAL_COMPANY = "local"
ENV_COMPANY = "STOCKROOM_COMPANY"
#: A company id: lower-case letters, digits and dashes, 2-40 characters, starting with a letter.
COMPANY_ID_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"


def companies_dir(install_root: Path | None = None) -> Path:
    """``<install data root>/companies``: one data root per company but the local one."""
    return (install_root or data_root()) / "companies"


def company_root(company_id: str, install_root: Path | None = None) -> Path:
    """The data root of ``company_id`` (:data:`LOCAL_COMPANY`: the install's data root).

    Raises ``ValueError`` for an id that is not a company id (:data:`COMPANY_ID_PATTERN`), so a
    crafted id such as ``../other`` never becomes a path."""
    import re

    install = install_root or data_root()
    if company_id == LOCAL_COMPANY:
        return install
    if not re.fullmatch(COMPANY_ID_PATTERN, company_id or ""):
        raise ValueError(
            f"{company_id!r} is not a company id (lower-case letters, digits and dashes, "
            "2-40 characters, starting with a letter)"
        )
    return companies_dir(install) / company_id


def company_of(root: Path) -> str:
    """The company whose data root is ``root``: ``<id>`` for ``.../companies/<id>``,
    :data:`LOCAL_COMPANY` for any other folder (the laptop's data root, a demo root, a test's
    temporary folder)."""
    import re

    root = Path(root)
    if root.parent.name == "companies" and re.fullmatch(COMPANY_ID_PATTERN, root.name):
        return root.name
    return LOCAL_COMPANY


def install_of(root: Path) -> Path:
    """The install data root a company's data ``root`` belongs to (``root`` itself for a
    local one)."""
    root = Path(root)
    return root.parent.parent if company_of(root) != LOCAL_COMPANY else root


def session_hours() -> float:
    """How long a sign-in lasts, hours (``STOCKROOM_SESSION_HOURS``, default 12): after that
    the app signs the person out and shows the sign-in page again."""
    return _number("STOCKROOM_SESSION_HOURS", 12.0)


def snapshots_dir(root: Path) -> Path:
    """``<root>/snapshots``: one folder per table, hive-partitioned by ``snapshot_date``."""
    return root / "snapshots"


def compacted_dir(root: Path) -> Path:
    """``<root>/compacted``: month files of the events tables, a derived read cache of the
    daily snapshots (see :func:`stockroom.store.compact`); deleting it loses nothing."""
    return root / "compacted"


def staging_dir(root: Path) -> Path:
    """``<root>/.staging``: where writes are built before the atomic swap (same filesystem)."""
    return root / ".staging"


def locks_dir(root: Path) -> Path:
    """``<root>/.locks``: the lock files writers take (see :func:`stockroom.store.writing`)."""
    return root / ".locks"


def reports_dir(root: Path) -> Path:
    """``<root>/reports``: executed notebooks and their HTML."""
    return root / "reports"


def bundled_olist_dir() -> Path:
    """The real Olist export bundled with the project (see data/README.md for provenance)."""
    return PROJECT_ROOT / "data" / "raw" / "olist"


def models_dir(root: Path) -> Path:
    """``<root>/models``: fitted model artefacts (e.g. ``forecaster/<as_of>``)."""
    return root / "models"


def db_url(root: Path) -> str:
    """``STOCKROOM_DB_URL`` if set, else the SQLite file ``<root>/workbench.db``."""
    return os.environ.get(ENV_DB_URL) or f"sqlite:///{Path(root) / 'workbench.db'}"


def source_token(source: str, secrets_file: Path | None = None) -> str | None:
    """The API token for ``source`` (e.g. ``cards``, ``ebay``), or None when none is set.

    Looks at ``STOCKROOM_<SOURCE>_TOKEN`` first, then ``[sources.<source>] token`` in
    ``.streamlit/secrets.toml`` (never committed; see ``.gitignore``).
    """
    env = os.environ.get(f"STOCKROOM_{source.upper().replace('-', '_')}_TOKEN")
    if env:
        return env
    path = secrets_file or SECRETS_FILE
    if path.is_file():
        with path.open("rb") as fh:
            secrets = tomllib.load(fh)
        return secrets.get("sources", {}).get(source, {}).get("token") or None
    return None


def smtp_credentials(secrets_file: Path | None = None) -> tuple[str | None, str | None]:
    """SMTP user and password for alert emails: ``STOCKROOM_SMTP_USER`` /
    ``STOCKROOM_SMTP_PASSWORD``, else ``[smtp] user/password`` in ``.streamlit/secrets.toml``
    (None when the server needs none)."""
    user = os.environ.get("STOCKROOM_SMTP_USER")
    password = os.environ.get("STOCKROOM_SMTP_PASSWORD")
    path = secrets_file or SECRETS_FILE
    if (not user or not password) and path.is_file():
        with path.open("rb") as fh:
            smtp = tomllib.load(fh).get("smtp", {})
        user, password = user or smtp.get("user"), password or smtp.get("password")
    return user or None, password or None


def secret_key(install_root: Path | None = None) -> bytes:
    """The key (Fernet, urlsafe base64 of 32 bytes) the companies' stored secrets are encrypted
    with: ``STOCKROOM_SECRET_KEY``; else ``[stockroom] secret_key`` in
    ``.streamlit/secrets.toml``; else ``<install data root>/.secret_key``, created (mode 0600)
    the first time on a laptop. A shared install sets the variable: losing the key loses the
    stored secrets (they are re-entered), never anything else."""
    env = os.environ.get("STOCKROOM_SECRET_KEY", "").strip()
    if env:
        return env.encode()
    if SECRETS_FILE.is_file():
        with SECRETS_FILE.open("rb") as fh:
            key = tomllib.load(fh).get("stockroom", {}).get("secret_key")
        if key:
            return str(key).encode()
    path = (install_root or data_root()) / ".secret_key"
    if not path.is_file():
        import base64

        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.urlsafe_b64encode(os.urandom(32)))
    return path.read_bytes().strip()


def sim_token() -> str | None:
    """The token the local marketplace simulator demands (open when unset)."""
    return os.environ.get(ENV_SIM_TOKEN) or None


def debug() -> bool:
    """``STOCKROOM_DEBUG`` set to anything but empty/0: the CLI shows tracebacks."""
    return os.environ.get(ENV_DEBUG, "") not in ("", "0")


def chromium() -> str | None:
    """The Chromium binary for UI tests: ``STOCKROOM_CHROMIUM``, else one on PATH."""
    return (
        os.environ.get(ENV_CHROMIUM) or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def _number(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None
    if number <= 0:
        raise ValueError(f"{name}={value!r} must be above 0")
    return number


def lock_timeout() -> float:
    """Seconds a writer waits for another writer of the same data root (``STOCKROOM_LOCK_TIMEOUT``,
    default 600) before failing with a message naming the lock."""
    return _number("STOCKROOM_LOCK_TIMEOUT", 600.0)


def max_cell_chars() -> int:
    """The longest text cell (characters) an import lands (``STOCKROOM_MAX_CELL_CHARS``, default
    10,000); longer cells are quarantined."""
    return int(_number("STOCKROOM_MAX_CELL_CHARS", 10_000))


def max_file_mb() -> float:
    """The largest source file (MB, 10^6 bytes) an import opens (``STOCKROOM_MAX_FILE_MB``,
    default 1,024)."""
    return _number("STOCKROOM_MAX_FILE_MB", 1_024.0)


def max_unpacked_mb() -> float:
    """The most a workbook (a zip of XML) may unpack to, in MB (``STOCKROOM_MAX_UNPACKED_MB``,
    default 512): the guard against zip bombs, checked before a cell is read."""
    return _number("STOCKROOM_MAX_UNPACKED_MB", 512.0)


def max_retry_after() -> float:
    """The longest wait (seconds) a source's ``Retry-After`` may ask before the run fails saying
    so (``STOCKROOM_MAX_RETRY_AFTER``, default 300)."""
    return _number("STOCKROOM_MAX_RETRY_AFTER", 300.0)


def actor() -> str:
    """Who signs decisions made from the CLI in the audit log: ``STOCKROOM_USER``, else the
    operating-system user (``getpass.getuser``)."""
    import getpass

    explicit = os.environ.get("STOCKROOM_USER", "").strip()
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid-{os.getuid()}"
