"""The tray app's lifecycle, driven as a person drives it, under Xvfb.

WebDriver cannot show this part: it starts the windows' process itself and
kills it once its last window closes. Here Gatehouse is started as a person
starts it, as `gatehouse`, which hands over to the tray (`gatehouse-tray`:
the core and the icon); the tray starts the windows' process
(`gatehouse-app`) when a window is wanted. A window gets the same
WM_DELETE_WINDOW message a window manager sends when the close button is
clicked, and a second launch is a real second `gatehouse` process.

Run by `make e2e` under `xvfb-run` and `dbus-run-session`.
"""

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from Xlib import X, Xatom, display, protocol

ROOT = Path(__file__).resolve().parents[2]
APP = Path(os.environ.get("GATEHOUSE_APP", ROOT / "target/debug/gatehouse"))
WINDOWS = APP.parent / "gatehouse-app"
PYTHON = ROOT / ".tools/venv/bin/python"
CALL_TOOL = ROOT / "tests/e2e/call_tool.py"


def wait_for(what, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what.__doc__ or what}")


def children(pid):
    """(pid, comm) of every direct child process of `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append((int(stat.parent.name), comm))
    return found


def web_processes(pid):
    """WebKit web processes: one per live webview. (WebKit's network process
    belongs to the web context, which Tauri keeps for the app's lifetime.)"""
    return [p for p, comm in children(pid) if comm.startswith("WebKitWebProces")]


def webkit_processes(pid):
    """Any WebKit process (web or network) among `pid`'s children."""
    return [p for p, comm in children(pid) if comm.startswith("WebKit")]


def windows_processes():
    """Live processes running the windows' executable, `gatehouse-app`."""
    found = []
    for exe in Path("/proc").glob("[0-9]*/exe"):
        try:
            if Path(os.readlink(exe)) == WINDOWS.resolve() and alive(int(exe.parent.name)):
                found.append(int(exe.parent.name))
        except OSError:
            continue
    return found


def alive(pid):
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2 :].split()[0] != "Z"


class Screen:
    def __init__(self):
        self.display = display.Display()
        self.root = self.display.screen().root

    def windows_titled(self, title):
        """Mapped top-level windows with this title."""
        found = []
        for window in self.root.query_tree().children:
            try:
                name = window.get_wm_name()
                mapped = window.get_attributes().map_state == X.IsViewable
            except Exception:  # the window went away while we looked
                continue
            if name == title and mapped:
                found.append(window)
        return found

    def main_windows(self):
        """Mapped top-level windows titled Gatehouse."""
        return self.windows_titled("Gatehouse")

    def approval_dialogs(self):
        """The approval dialog, when it is on screen."""
        return self.windows_titled("Gatehouse: approve a tool call")

    def close(self, window):
        """What a window manager does when the close button is clicked."""
        protocols = self.display.intern_atom("WM_PROTOCOLS")
        delete = self.display.intern_atom("WM_DELETE_WINDOW")
        event = protocol.event.ClientMessage(
            window=window, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        window.send_event(event, event_mask=X.NoEventMask)
        self.display.flush()


@pytest.fixture
def sandbox():
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ)
        env["HOME"] = f"{scratch}/home"
        env["GATEHOUSE_HOME"] = f"{scratch}/gatehouse"
        env.pop("GATEHOUSE_CONFIG", None)
        os.makedirs(env["HOME"])
        yield env, Path(scratch)


def test_close_keeps_running_in_the_tray_and_a_second_launch_reopens(sandbox):
    env, scratch = sandbox
    screen = Screen()
    log = open(scratch / "app.log", "w+")
    tray = subprocess.Popen([APP, "--open"], env=env, stderr=log, stdout=log)
    try:
        windows = wait_for(screen.main_windows)
        [window_pid] = wait_for(windows_processes)
        wait_for(lambda: web_processes(window_pid))
        # The resident process runs no web engine of its own.
        assert not webkit_processes(tray.pid)

        # The close button: the window goes, and with it the windows'
        # process and its WebKit processes; the tray stays.
        screen.close(windows[0])
        wait_for(lambda: not screen.main_windows())
        wait_for(lambda: not windows_processes())
        time.sleep(1)
        assert tray.poll() is None, "the tray quit when its window closed"
        assert not webkit_processes(tray.pid)

        # A second launch opens the window of the running Gatehouse and exits.
        second = subprocess.run([APP, "--open"], env=env, capture_output=True, timeout=20)
        assert second.returncode == 0, second.stderr
        assert b"Gatehouse is already running" in second.stderr, second.stderr
        wait_for(screen.main_windows)
        assert wait_for(windows_processes)
        text = (scratch / "app.log").read_text()
        assert text.count("starting the core") == 1, "the second launch started its own core"

        # SIGTERM: a clean exit that stops the servers first, and the
        # windows go with the core.
        demo_pid = int(re.search(r"spawned pid=(\d+)", text).group(1))
        assert alive(demo_pid)
        tray.send_signal(signal.SIGTERM)
        assert tray.wait(timeout=20) == 0
        text = (scratch / "app.log").read_text()
        assert "tray app exited" in text
        assert not alive(demo_pid), "the demo server outlived the app"
        wait_for(lambda: not windows_processes())
        wait_for(lambda: not screen.main_windows())
    finally:
        if tray.poll() is None:
            tray.kill()
            tray.wait()


def test_a_waiting_call_brings_up_the_dialog_in_a_process_that_ends_with_it(sandbox):
    env, scratch = sandbox
    write_config(env, f"[servers.demo]\ncommand = \"{APP}\"\nargs = [\"demo-server\"]\n")
    screen = Screen()
    log = open(scratch / "app.log", "w+")
    # No window: Gatehouse as it runs all day, in the tray.
    tray = subprocess.Popen([APP, "--addr", "127.0.0.1:0"], env=env, stderr=log, stdout=log)
    call = None
    try:
        wait_for(lambda: "running tools=" in (scratch / "app.log").read_text())
        assert not windows_processes() and not screen.main_windows()
        gateway = json.loads(
            subprocess.run([APP, "token", "show", "--json"], env=env, capture_output=True, check=True).stdout
        )
        # delete_note is destructive: the call waits for a person.
        call = subprocess.Popen(
            [PYTHON, CALL_TOOL, gateway["url"], gateway["token"], "demo__delete_note", '{"id": 1}'],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        wait_for(screen.approval_dialogs)
        assert wait_for(windows_processes)
        assert not screen.main_windows(), "only the dialog was asked for"

        # Answered elsewhere (here, the CLI): the dialog closes, and the
        # windows' process, with nothing left to show, ends.
        pending = json.loads(
            subprocess.run([APP, "approvals", "--pending", "--json"], env=env, capture_output=True, check=True).stdout
        )
        subprocess.run([APP, "approvals", "deny", str(pending[0]["id"])], env=env, check=True, capture_output=True)
        out, err = call.communicate(timeout=30)
        assert json.loads(out)["isError"], out
        wait_for(lambda: not screen.approval_dialogs())
        wait_for(lambda: not windows_processes())
        assert tray.poll() is None
    finally:
        if call is not None and call.poll() is None:
            call.kill()
        tray.send_signal(signal.SIGTERM)
        tray.wait(timeout=20)


def write_config(env, text):
    home = Path(env["GATEHOUSE_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "gatehouse.toml").write_text(text)


def test_a_launch_right_after_quit_waits_for_the_quitting_instance_then_starts(sandbox):
    env, scratch = sandbox
    # A server that ignores the end of stdin and SIGTERM: the old instance
    # takes its whole stop sequence (about 6 s) to quit.
    write_config(
        env,
        "[servers.slow]\n"
        'command = "sh"\n'
        f"args = [\"-c\", \"trap '' TERM; '{APP}' demo-server; sleep 30\"]\n",
    )
    first_log = open(scratch / "first.log", "w+")
    first = subprocess.Popen([APP], env=env, stderr=first_log, stdout=first_log)
    second = None
    try:
        wait_for(lambda: "running tools=" in (scratch / "first.log").read_text())
        first.send_signal(signal.SIGTERM)  # Quit
        wait_for(lambda: "shutting down" in (scratch / "first.log").read_text())
        second_log = open(scratch / "second.log", "w+")
        second = subprocess.Popen([APP], env=env, stderr=second_log, stdout=second_log)

        assert first.wait(timeout=20) == 0
        # The new launch waited, then started its own core and servers.
        wait_for(lambda: "running tools=" in (scratch / "second.log").read_text(), timeout=20)
        text = (scratch / "second.log").read_text()
        assert "still quitting; waiting for it" in text, text
        assert second.poll() is None, text
        assert "panicked" not in text and "cannot start" not in text, text
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_launch_while_gatehouse_serve_runs_opens_its_window(sandbox):
    env, scratch = sandbox
    write_config(env, "")
    screen = Screen()
    serve_log = open(scratch / "serve.log", "w+")
    serve = subprocess.Popen([APP, "serve", "--addr", "127.0.0.1:0"], env=env, stderr=serve_log, stdout=serve_log)
    try:
        wait_for(lambda: "gateway listening" in (scratch / "serve.log").read_text())
        app = subprocess.run([APP], env=env, capture_output=True, text=True, timeout=30)
        assert app.returncode == 0, app.stderr
        assert f"Gatehouse is already running (pid {serve.pid}); opening its window" in app.stderr, app.stderr
        assert "panicked" not in app.stderr, app.stderr
        # The window shows the headless core's state.
        [window] = wait_for(screen.main_windows)
        assert serve.poll() is None
        screen.close(window)
        wait_for(lambda: not windows_processes())
        assert serve.poll() is None
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=20)
