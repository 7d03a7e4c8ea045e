"""Real services for the tests: a throwaway PostgreSQL server and a local-mode Spark session.

Plain helpers with no pytest in them; ``tests/conftest.py`` turns them into the session fixtures
``postgres_url`` and ``spark``. Nothing here is a mock. PostgreSQL is Debian's server package run from a
fresh ``initdb`` on a free port of 127.0.0.1; Spark is PySpark's own JVM in ``local[2]`` mode, bound to
127.0.0.1. ``./test.sh`` installs what they need (``scripts/setup.sh`` with ``AUDIT_SETUP_SERVICES=1``:
Debian's ``postgresql`` and a Java runtime; the ``postgres`` and ``spark`` extras of ``pyproject.toml``).

Every "cannot start here" problem is raised as :class:`ServiceUnavailable` with what is missing and how to
install it; any other error is a real bug and propagates as it is.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily: both are optional extras and pyspark is slow to import
    import pandas as pd
    from pyspark.sql import SparkSession

POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
POSTGRES_SYSTEM_USER = "postgres"  # created by Debian's postgresql-common; the server refuses to run as root
POSTGRES_DATABASE = "audit_test"
POSTGRES_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    # Durability is useless for a cluster that is deleted after the run, and costs time.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
START_TIMEOUT_SECONDS = 120  # generous: a JVM or a server starts slowly on a busy two-core CI machine
MINIMUM_JAVA = 17  # Spark 4
SPARK_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.session.timeZone": "UTC",
    # pandas <-> Spark through Arrow, and never a silent fallback: with pandas 3, Spark's row-by-row path
    # turns missing strings into the string 'NaN' and keeps NaN instead of NULL in doubles.
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}
# The JIT's first tier only: the tests' jobs are tiny, and skipping the optimising compiler cuts
# the JVM's start plus first job on two busy cores (measured here: about 20 s -> 12-14 s).
SPARK_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1"
INSTALL_HINT = "./test.sh installs it when run as root"


class ServiceUnavailable(RuntimeError):
    """A service cannot be started on this machine; the message says what is missing and how to fix it."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def postgres_bin() -> Path:
    """The bin folder of the newest PostgreSQL server installed from Debian's packages."""
    folders = [Path(initdb).parent for initdb in glob.glob(f"{POSTGRES_BIN_GLOB}/initdb")]
    if not folders:
        raise ServiceUnavailable(
            f"PostgreSQL's server is not installed: no {POSTGRES_BIN_GLOB}/initdb ({INSTALL_HINT}; "
            "otherwise: sudo apt-get install --no-install-recommends postgresql)")
    return max(folders, key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else -1)


def _postgres_account() -> pwd.struct_passwd | None:
    """The account to run the server as: None for the current user, Debian's ``postgres`` user for root."""
    if os.geteuid() != 0:
        return None
    try:
        account = pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        raise ServiceUnavailable(
            f"running as root, and PostgreSQL refuses to run as root, but there is no '{POSTGRES_SYSTEM_USER}' "
            "user to run it as (Debian's postgresql-common package creates it)") from None
    if shutil.which("runuser") is None:
        raise ServiceUnavailable("running as root, and runuser (util-linux) is missing: it is needed to run "
                                 f"PostgreSQL as the '{POSTGRES_SYSTEM_USER}' user")
    return account


def _run(command: list[str | Path], *, what: str, cwd: Path) -> None:
    """Run a set-up command; a failure is a ServiceUnavailable carrying the command's output."""
    try:
        done = subprocess.run([str(part) for part in command], check=False, cwd=cwd, capture_output=True, text=True,
                              timeout=START_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        raise ServiceUnavailable(f"{what} did not finish within {START_TIMEOUT_SECONDS} s: "
                                 f"{' '.join(map(str, command))}") from error
    if done.returncode != 0:
        raise ServiceUnavailable(f"{what} failed (exit code {done.returncode}): {' '.join(map(str, command))}\n"
                                 f"{(done.stdout + done.stderr).strip()[-3000:]}")


def _tail(path: Path, characters: int = 3000) -> str:
    return path.read_text(errors="replace")[-characters:] if path.exists() else f"({path} was not written)"


@contextmanager
def postgres_server(*, database: str = POSTGRES_DATABASE) -> Iterator[str]:
    """Run a throwaway PostgreSQL server while the block runs; give the URL of an empty database.

    ``initdb`` makes a new cluster in a temporary folder (trust authentication, UTF-8, C locale), and
    ``pg_ctl`` starts it on a free port of 127.0.0.1 only, with its Unix socket in that folder and
    ``fsync`` off. When running as root, both run as Debian's ``postgres`` user (via ``runuser``), who is
    given the folder. At the end the server is stopped and the folder deleted.

    Yields
    ------
    str
        For example ``postgresql://postgres@127.0.0.1:54321/audit_test``.

    Raises
    ------
    ServiceUnavailable
        When the server is not installed or does not start; the message carries the server's log.
    """
    bin_folder = postgres_bin()
    account = _postgres_account()
    as_server_user: list[str | Path] = ["runuser", "-u", account.pw_name, "--"] if account else []
    # As root, /tmp rather than $TMPDIR: the postgres user must be able to reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="audit-pg-", dir="/tmp" if account else None))
    data, log = folder / "data", folder / "server.log"
    started = False
    try:
        if account:
            os.chown(folder, account.pw_uid, account.pw_gid)
        _run([*as_server_user, bin_folder / "initdb", "--pgdata", data, "--username", "postgres",
              "--auth", "trust", "--encoding", "UTF8", "--no-locale", "--no-sync"], what="initdb", cwd=folder)
        settings = {**POSTGRES_SETTINGS, "unix_socket_directories": f"'{folder}'"}
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# tests/services.py\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))
        port = _start_postgres(as_server_user, bin_folder, data, log, folder)
        started = True
        _run([bin_folder / "createdb", "--host", "127.0.0.1", "--port", str(port), "--username", "postgres",
              database], what="createdb", cwd=folder)
        yield f"postgresql://postgres@127.0.0.1:{port}/{database}"
    finally:
        if started or (data / "postmaster.pid").exists():
            _stop_postgres(as_server_user, bin_folder, data, folder)
        shutil.rmtree(folder, ignore_errors=True)


def _start_postgres(as_server_user: list[str | Path], bin_folder: Path, data: Path, log: Path,
                    folder: Path) -> int:
    """Start the cluster on a free port and return the port; retry when another process took the port."""
    for _attempt in range(3):
        port = free_port()
        try:
            _run([*as_server_user, bin_folder / "pg_ctl", "--pgdata", data, "--log", log, "--wait",
                  "--timeout", str(START_TIMEOUT_SECONDS), "-o", f"-p {port}", "start"],
                 what="pg_ctl start", cwd=folder)
            return port
        except ServiceUnavailable as error:
            if "already in use" not in _tail(log):  # the port was taken between free_port() and the start
                raise ServiceUnavailable(f"{error}\nserver log ({log}):\n{_tail(log)}") from error
    raise ServiceUnavailable(f"PostgreSQL found no free port in 3 tries; server log:\n{_tail(log)}")


def _stop_postgres(as_server_user: list[str | Path], bin_folder: Path, data: Path, folder: Path) -> None:
    """Stop the server: 'fast' (roll back sessions, exit cleanly), else 'immediate' (the data is discarded)."""
    for mode in ("fast", "immediate"):
        try:
            _run([*as_server_user, bin_folder / "pg_ctl", "--pgdata", data, "--mode", mode, "--wait", "stop"],
                 what="pg_ctl stop", cwd=folder)
            return
        except ServiceUnavailable:
            if not (data / "postmaster.pid").exists():
                return
    raise ServiceUnavailable(f"the PostgreSQL server of {data} did not stop")


def load_table(url: str, name: str, frame: pd.DataFrame, *, replace: bool = False) -> int:
    """Write ``frame`` to a new table ``name`` with the ADBC driver's bulk ingest; return the rows written.

    Types go pandas -> Arrow -> PostgreSQL: integers -> ``bigint``, floats -> ``double precision``, bools
    (also ``boolean`` and object columns of True/False/None) -> ``boolean``, strings -> ``text``,
    datetimes -> ``timestamp`` (``timestamptz`` when tz-aware); a categorical column is written as its
    values. Missing values (None, NaN, pd.NA) become NULL, so a NaN in a float column is stored as NULL.
    The index is not written: call ``reset_index()`` first to keep it. Column names are kept as they are
    (quoted).

    Parameters
    ----------
    url : str
        A ``postgresql://`` URL, such as the ``postgres_url`` fixture.
    name : str
        The table to create; with ``replace=True`` an existing table of that name is dropped first.
    frame : pandas.DataFrame
        The rows; not modified.
    """
    import adbc_driver_postgresql.dbapi as postgres
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    # Dictionary (categorical) columns: PostgreSQL has no such type, so write the values.
    table = table.cast(pa.schema([field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type)
                                  else field for field in table.schema], metadata=table.schema.metadata))
    with postgres.connect(url) as connection, connection.cursor() as cursor:
        rows = cursor.adbc_ingest(name, table, mode="replace" if replace else "create")
        connection.commit()
    return int(rows)


# --- Spark --------------------------------------------------------------------------------------------------


def java_home() -> Path:
    """``$JAVA_HOME`` when set, else the home of the ``java`` on PATH; checked to be Java 17 or newer."""
    if os.environ.get("JAVA_HOME"):
        home = Path(os.environ["JAVA_HOME"])
        if not (home / "bin" / "java").exists():
            raise ServiceUnavailable(f"JAVA_HOME is {home}, but there is no {home / 'bin' / 'java'}")
    else:
        java = shutil.which("java")
        if java is None:
            raise ServiceUnavailable(f"Spark needs Java {MINIMUM_JAVA} or newer and there is no java on PATH "
                                     f"({INSTALL_HINT}; otherwise: sudo apt-get install "
                                     "--no-install-recommends openjdk-17-jre-headless)")
        home = Path(java).resolve().parent.parent  # /usr/bin/java -> /usr/lib/jvm/<jdk>/bin/java
    release = home / "release"  # JAVA_VERSION="17.0.15"; every OpenJDK build ships this file
    found = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(), re.MULTILINE) if release.exists() else None
    if found and int(found.group(1)) < MINIMUM_JAVA:
        raise ServiceUnavailable(f"Spark 4 needs Java {MINIMUM_JAVA} or newer; {home} is Java {found.group(1)} "
                                 "(set JAVA_HOME to a newer one, or install openjdk-17-jre-headless)")
    return home


@contextmanager
def spark_session(*, cores: int = 2, app_name: str = "audit-tests") -> Iterator[SparkSession]:
    """Run a local-mode SparkSession while the block runs.

    ``local[cores]``, no web UI, few shuffle partitions, driver bound to 127.0.0.1 (``SPARK_LOCAL_IP`` too),
    log level WARN, scratch and warehouse folders in a temporary folder (deleted at the end), Python
    workers on this interpreter, pandas conversions through Arrow with no fallback, and a JVM tuned to
    start fast (``SPARK_JAVA_OPTIONS``). Needs no network.
    One session per process: Spark shares it, so don't nest these.

    Raises
    ------
    ServiceUnavailable
        When PySpark or Java is missing, or the JVM does not start.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise ServiceUnavailable(f"PySpark is not installed ({error}); it is in the 'spark' and 'test' extras "
                                 "(./test.sh installs them)") from error
    environment = {"JAVA_HOME": str(java_home()), "SPARK_LOCAL_IP": "127.0.0.1",
                   "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    saved = {key: os.environ.get(key) for key in environment}
    folder = Path(tempfile.mkdtemp(prefix="audit-spark-"))
    settings: dict[str, Any] = {**SPARK_SETTINGS, "spark.local.dir": str(folder / "scratch"),
                                "spark.sql.warehouse.dir": str(folder / "warehouse"),
                                "spark.driver.extraJavaOptions": f"{SPARK_JAVA_OPTIONS} -Djava.io.tmpdir={folder}"}
    os.environ.update(environment)  # read when the JVM is launched
    session = None
    try:
        builder = SparkSession.builder.master(f"local[{cores}]").appName(app_name)
        for key, value in settings.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as error:  # PySparkRuntimeError [JAVA_GATEWAY_EXITED], a Py4J error, ...
            raise ServiceUnavailable(f"Spark did not start (JAVA_HOME={environment['JAVA_HOME']}): "
                                     f"{type(error).__name__}: {error}") from error
        session.sparkContext.setLogLevel("WARN")
        yield session
    finally:
        if session is not None:
            session.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(folder, ignore_errors=True)
