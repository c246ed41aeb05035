"""Shared harness for the client tests: the real `gatehouse` binary, real MCP
peers (server-everything, server-memory, two Python SDK fixture servers), and
helpers to start, query and stop Gatehouse instances in throwaway homes.

Every instance lives in its own temporary `$GATEHOUSE_HOME` with `HOME`
pointed at a temporary directory too, so nothing here touches the user's
config, logs or keyring unless a test asks for the keyring on purpose.

When a test fails, the stderr of every Gatehouse instance alive during it and
the tails of its log files are attached to the failure report.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = os.environ.get("GATEHOUSE_APP", str(ROOT / "target/debug/gatehouse"))
PEERS = ROOT / "tests/peers/node_modules/.bin"
EVERYTHING = str(PEERS / "mcp-server-everything")
MEMORY = str(PEERS / "mcp-server-memory")
INSPECTOR = str(ROOT / "tests/clients/inspector")
PYTHON = str(ROOT / ".tools/venv/bin/python")
SLOW_SERVER = str(ROOT / "tests/clients/fixtures/slow_server.py")
PAGED_SERVER = str(ROOT / "tests/clients/fixtures/paged_server.py")

# Variables a test's Gatehouse must not inherit from whoever runs pytest.
_SCRUBBED = (
    "GATEHOUSE_HOME",
    "GATEHOUSE_CONFIG",
    "GATEHOUSE_ADDR",
    "GATEHOUSE_TOKEN",
    "GATEHOUSE_LOG",
    "GATEHOUSE_LOG_FORMAT",
    "DISPLAY",
    "WAYLAND_DISPLAY",
)

T = TypeVar("T")


class _Failed(AssertionError):
    """Raised by a `wait_for` probe: the condition can no longer come true."""


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.1) -> T:
    """Polls `probe` until it returns something truthy (returned) or `timeout`
    seconds pass (AssertionError naming `what` and the last value or error)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = probe()
            if value:
                return value
            last = value
        except _Failed:
            raise
        except Exception as error:  # the condition may not be checkable yet
            last = error
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def require_private_keyring(what: str) -> None:
    """Skips a test that writes to the OS keyring unless it runs in the
    throwaway Secret Service `scripts/with-keyring.sh` starts (as `make test`
    does, and says so in GATEHOUSE_TESTS_PRIVATE_KEYRING). Keyring entries are
    per user, not per $GATEHOUSE_HOME, so elsewhere the test would touch the
    real Gatehouse's entries."""
    if os.environ.get("GATEHOUSE_TESTS_PRIVATE_KEYRING") != "1":
        pytest.skip(
            f"{what}, so it needs a private Secret Service: run under "
            "`dbus-run-session -- scripts/with-keyring.sh` (or set GATEHOUSE_TESTS_PRIVATE_KEYRING=1)"
        )


def random_token() -> str:
    return secrets.token_hex(32)


def base_env(home: Path, user_home: Path, **extra: str) -> dict[str, str]:
    """The environment for `gatehouse` commands of one instance."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.update(GATEHOUSE_HOME=str(home), HOME=str(user_home))
    env.update(extra)
    return env


def run_app(env: dict[str, str], *args: str, timeout: float = 30, check: bool = True) -> subprocess.CompletedProcess:
    """Runs `gatehouse ARGS` to completion and returns it (text output)."""
    done = subprocess.run(
        [APP, *args], env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"`gatehouse {' '.join(args)}` exited {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
        )
    return done


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def diagnostics_of(home: Path, stderr_file: Path | None, lines: int = 60) -> str:
    """The instance's serve stderr and the tails of its log files."""
    parts = []
    files = [stderr_file] if stderr_file is not None else []
    logs = home / "logs"
    if logs.is_dir():
        files += sorted(p for p in logs.rglob("*.log") if p.is_file())
    for path in files:
        if path is None or not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        parts.append(f"----- {path} (last {min(lines, len(text))} of {len(text)} lines)")
        parts.extend(text[-lines:])
    return "\n".join(parts) or f"(no logs under {home})"


# Every instance started during the session, for the failure report.
_INSTANCES: list["Gatehouse"] = []


@dataclass
class Gatehouse:
    """A running `gatehouse serve`. Unpacks as (url, token, home, env)."""

    url: str
    token: str
    home: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    stderr_file: Path | None = None
    stopped_at: float | None = None

    def __iter__(self):
        return iter((self.url, self.token, self.home, self.env))

    def endpoint(self, server: str | None = None) -> str:
        return self.url if server is None else f"{self.url}/{server}"

    def app(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return run_app(self.env, *args, **kwargs)

    def servers(self) -> dict[str, dict]:
        return {s["name"]: s for s in json.loads(self.app("server", "list", "--json").stdout)}

    def show(self, name: str) -> dict:
        shown = json.loads(self.app("server", "show", name, "--json").stdout)
        return shown[0] if isinstance(shown, list) else shown

    def token_show(self) -> dict:
        return json.loads(self.app("token", "show", "--json").stdout)

    def wait_running(self, names, timeout: float = 30) -> dict[str, dict]:
        def probe():
            servers = self.servers()
            failed = {n: servers[n].get("detail") for n in names if servers.get(n, {}).get("state") == "failed"}
            if failed:  # Gatehouse gave up on them: no point waiting
                raise _Failed(f"servers failed: {failed}")
            return servers if all(servers.get(n, {}).get("state") == "running" for n in names) else None

        return wait_for(f"servers {sorted(names)} running", probe, timeout)

    def diagnostics(self) -> str:
        return diagnostics_of(self.home, self.stderr_file)

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM, then wait; returns the exit code (None if it had to be killed)."""
        if self.proc is None or self.stopped_at is not None:
            return None
        self.stopped_at = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return None


def start_gatehouse(
    home: Path,
    servers_toml: str,
    *,
    token: str | None,
    extra_env: dict[str, str] | None = None,
    wait_for_servers=(),
    timeout: float = 30,
) -> Gatehouse:
    """Writes gatehouse.toml and starts `gatehouse serve --addr 127.0.0.1:0`.

    With `token`, the instance uses it via $GATEHOUSE_TOKEN; without, the
    instance uses the OS keyring. Returns once `token show --json` reports
    the URL and every name in `wait_for_servers` is running.
    """
    home.mkdir(parents=True, exist_ok=True)
    user_home = home / "user-home"
    user_home.mkdir(exist_ok=True)
    (home / "gatehouse.toml").write_text(servers_toml, encoding="utf-8")
    env = base_env(home, user_home, **(extra_env or {}))
    serve_env = dict(env)
    if token is not None:
        serve_env["GATEHOUSE_TOKEN"] = token
    stderr_file = home / "serve.stderr"
    stderr = open(stderr_file, "w", encoding="utf-8")
    proc = subprocess.Popen(
        [APP, "serve", "--addr", "127.0.0.1:0"],
        env=serve_env,
        stdin=subprocess.DEVNULL,
        stdout=stderr,
        stderr=stderr,
    )
    stderr.close()
    instance = Gatehouse(url="", token="", home=home, env=env, proc=proc, stderr_file=stderr_file)
    _INSTANCES.append(instance)

    def shown():
        if proc.poll() is not None:
            raise _Failed(f"gatehouse serve exited {proc.returncode}:\n{instance.diagnostics()}")
        done = run_app(env, "token", "show", "--json", check=False, timeout=10)
        if done.returncode != 0:
            return None
        report = json.loads(done.stdout)
        return report if report.get("url") else None

    try:
        report = wait_for("`token show --json` to report the endpoint URL", shown, timeout, interval=0.1)
        instance.url, instance.token = report["url"], report["token"]
        if token is not None:
            assert report["token"] == token and report["source"] == "env", report
        if wait_for_servers:
            instance.wait_running(wait_for_servers, timeout)
    except BaseException:
        instance.stop()
        raise
    return instance


# The fixture servers' tools carry no annotations, so Gatehouse's approval gate
# would ask before every call to them (and the call would wait for an answer
# until the timeout). The tests that use these servers are about forwarding,
# not approvals, so their configs hold the user's own `allow` rule for each
# tool the tests call, as a user who trusts these tools would write it.
# test_approvals.py covers the gate itself.


def slow_server_toml(events: Path) -> str:
    return (
        "[servers.slow]\n"
        f"command = {toml_string(PYTHON)}\n"
        f"args = [{toml_string(SLOW_SERVER)}]\n"
        f"env = {{ SLOW_SERVER_EVENTS = {toml_string(str(events))} }}\n"
        "\n[servers.slow.tools]\n"
        'wait = "allow"  # unannotated: it would ask (see above)\n'
    )


def paged_server_toml(generation: Path) -> str:
    return (
        "[servers.paged]\n"
        f"command = {toml_string(PYTHON)}\n"
        f"args = [{toml_string(PAGED_SERVER)}]\n"
        f"env = {{ PAGED_SERVER_GENERATION = {toml_string(str(generation))} }}\n"
        "\n[servers.paged.tools]\n"
        '"tool-7" = "allow"  # unannotated: it would ask (see above)\n'
    )


GATEWAY_SERVERS = ("demo", "everything", "slow", "paged")


@pytest.fixture(scope="module")
def gatehouse(tmp_path_factory):
    """One Gatehouse for a whole test module: servers `demo`, `everything`
    (server-everything by absolute path), `slow` (fixtures/slow_server.py)
    and, last in config order, `paged` (fixtures/paged_server.py, whose
    lists paginate); a random 64-hex token in $GATEHOUSE_TOKEN (no keyring
    needed), endpoint on a free loopback port. Yields a `Gatehouse` (unpacks
    as url, token, home, env); SIGTERMs it afterwards and checks that it
    stopped cleanly."""
    home = tmp_path_factory.mktemp("gatehouse")
    config = (
        "[servers.demo]\n"
        'command = "gatehouse"\n'
        'args = ["demo-server"]\n\n'
        "[servers.everything]\n"
        f"command = {toml_string(EVERYTHING)}\n\n" + slow_server_toml(home / "slow-events.txt") + "\n"
        + paged_server_toml(home / "paged-generation.txt")
    )
    instance = start_gatehouse(home, config, token=random_token(), wait_for_servers=GATEWAY_SERVERS)
    yield instance
    try:
        pids = [s["pid"] for s in instance.servers().values() if s.get("pid")]
    except AssertionError:  # reported by the stop below
        pids = []
    code = instance.stop()
    if code != 0:
        print(instance.diagnostics())
    assert code == 0, f"gatehouse serve did not stop cleanly on SIGTERM (exit {code})"
    leftovers = wait_for_gone(pids, 10)
    assert not leftovers, f"servers still running after Gatehouse stopped: {leftovers}"


def wait_for_gone(pids, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if pid_alive(p)]
        if not alive:
            return []
        time.sleep(0.1)
    return [p for p in pids if pid_alive(p)]


@pytest.fixture
def scratch_home():
    """A fresh directory for a Gatehouse home that no instance uses yet."""
    path = Path(tempfile.mkdtemp(prefix="gatehouse-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


_STARTED = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_STARTED] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    started = item.stash.get(_STARTED, 0.0)
    for instance in _INSTANCES:
        if instance.stopped_at is None or instance.stopped_at >= started:
            report.sections.append((f"gatehouse {instance.home}", instance.diagnostics()))
