"""Registering Gatehouse with MCP clients, as the clients then use it.

Every test runs `gatehouse client …` against a throwaway `$HOME` and
`$GATEHOUSE_HOME`, then reaches Gatehouse the way the client would, from the
entry that was written: the MCP Inspector CLI with a Cursor or VS Code HTTP
entry's URL and header, the Python SDK spawning a Claude Desktop entry's
command. Imports move a plaintext key into the (private) keyring, and the
key must then be in no file at all.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import anyio
import pytest
from conftest import (
    APP,
    INSPECTOR,
    MEMORY,
    PEERS,
    Gatehouse,
    random_token,
    require_private_keyring,
    run_app,
    start_gatehouse,
)
from mcp import Client, StdioServerParameters

DEMO_TOML = '[servers.demo]\ncommand = "gatehouse"\nargs = ["demo-server"]\n'


def user_home(gatehouse: Gatehouse) -> Path:
    return Path(gatehouse.env["HOME"])


def client(gatehouse: Gatehouse, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return gatehouse.app("client", *args, check=check)


def inspector_tools(url: str, headers: dict[str, str]) -> list[str]:
    """Tool names the Inspector CLI lists at `url`, sending `headers`."""
    args = [INSPECTOR, "--cli", url, "--transport", "http"]
    for name, value in headers.items():
        args += ["--header", f"{name}: {value}"]
    args += ["--format", "json", "-q", "--method", "tools/list"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"inspector exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return [tool["name"] for tool in json.loads(done.stdout)["result"]["tools"]]


async def stdio_tools(command: str, args: list[str], env: dict[str, str]) -> list[str]:
    params = StdioServerParameters(command=command, args=args, env=env)
    async with Client(params) as session:
        return [tool.name for tool in (await session.list_tools()).tools]


def files_containing(root: Path, needle: str) -> list[Path]:
    data = needle.encode()
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if data in path.read_bytes():
                    hits.append(path)
            except OSError:
                pass
    return hits


@pytest.fixture
def demo(scratch_home) -> Gatehouse:
    instance = start_gatehouse(scratch_home, DEMO_TOML, token=random_token(), wait_for_servers=("demo",))
    yield instance
    instance.stop()


# ------------------------------------------------------------ HTTP clients


def test_the_inspector_reaches_gatehouse_through_the_entry_written_for_cursor(demo: Gatehouse):
    cursor = user_home(demo) / ".cursor" / "mcp.json"
    cursor.parent.mkdir(parents=True)
    original = {"mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}}}
    cursor.write_text(json.dumps(original, indent=2) + "\n", encoding="utf-8")

    done = client(demo, "register", "cursor")
    assert f"Updated {cursor}" in done.stdout, done.stdout
    written = json.loads(cursor.read_text(encoding="utf-8"))
    assert written["mcpServers"]["github"] == original["mcpServers"]["github"]
    entry = written["mcpServers"]["gatehouse"]
    assert entry["url"] == demo.url
    assert "demo__delete_note" in inspector_tools(entry["url"], entry["headers"])

    checks = {c["name"]: c for c in json.loads(demo.app("doctor", "--json", check=False).stdout)}
    assert checks["clients"]["summary"] == "registered with Cursor", checks["clients"]

    listed = {c["id"]: c for c in json.loads(client(demo, "list", "--json").stdout)}
    assert listed["cursor"]["installed"] is True
    assert listed["cursor"]["user"]["state"] == "registered"
    assert listed["cursor"]["user"]["otherServers"] == ["github"]


def test_a_per_server_vscode_entry_reaches_that_servers_own_endpoint(demo: Gatehouse):
    client(demo, "register", "vscode", "--server", "demo")
    path = user_home(demo) / ".config" / "Code" / "User" / "mcp.json"
    entry = json.loads(path.read_text(encoding="utf-8"))["servers"]["gatehouse-demo"]
    assert entry["type"] == "http" and entry["url"] == f"{demo.url}/demo"
    # The server's own endpoint serves its tools under their original names.
    assert "delete_note" in inspector_tools(entry["url"], entry["headers"])


# ---------------------------------------------------------- stdio clients


def test_the_claude_desktop_entry_runs_the_bridge_to_this_gatehouse(demo: Gatehouse):
    client(demo, "register", "claude-desktop")
    path = user_home(demo) / ".config" / "Claude" / "claude_desktop_config.json"
    entry = json.loads(path.read_text(encoding="utf-8"))["mcpServers"]["gatehouse"]
    assert entry["command"] == os.path.realpath(APP)
    assert entry["args"] == ["bridge"]
    assert entry["env"] == {"GATEHOUSE_HOME": str(demo.home)}
    assert "headers" not in entry and demo.token not in path.read_text(encoding="utf-8")
    # Claude Desktop gives the server its own small environment, plus `env`.
    env = {"HOME": str(user_home(demo)), "PATH": "/usr/bin:/bin", **entry["env"]}
    tools = anyio.run(stdio_tools, entry["command"], entry["args"], env)
    assert "demo__read_note" in tools


def test_a_project_entry_is_the_plain_bridge_command_without_the_token(demo: Gatehouse, tmp_path: Path):
    done = client(demo, "register", "claude-code", "--project", str(tmp_path))
    # A project server still needs the user's approval inside Claude Code.
    assert "approve a project's server the first time" in done.stderr, done.stderr
    text = (tmp_path / ".mcp.json").read_text(encoding="utf-8")
    assert json.loads(text) == {
        "mcpServers": {"gatehouse": {"type": "stdio", "command": "gatehouse", "args": ["bridge"]}}
    }
    assert demo.token not in text


# ---------------------------------------------------------- Claude Code

CLAUDE = str(PEERS / "claude")


def with_claude(gatehouse: Gatehouse, tmp_path: Path) -> dict[str, str]:
    """The instance's environment with Claude Code's `claude` on PATH, behind
    a shim that records every command line it is given."""
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / "claude"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{tmp_path}/claude-argv"\nexec "{CLAUDE}" "$@"\n')
    shim.chmod(0o755)
    return {
        **gatehouse.env,
        "PATH": f"{shims}:{gatehouse.env['PATH']}",
        # Claude Code stays off the network in tests.
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }


def claude(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [CLAUDE, *args], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, f"claude {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_claude_codes_own_command_registers_gatehouse_and_claude_code_connects(demo: Gatehouse, tmp_path: Path):
    env = with_claude(demo, tmp_path)
    state = user_home(demo) / ".claude.json"
    # Claude Code has been used: its state file holds its own keys and a server.
    github = {"type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"], "env": {}}
    state.write_text(
        json.dumps({"numStartups": 7, "mcpServers": {"github": github}, "projects": {}}, indent=2) + "\n",
        encoding="utf-8",
    )

    done = run_app(env, "client", "register", "claude-code")
    assert f"Updated {state} through `claude mcp`." in done.stdout, done.stdout
    written = json.loads(state.read_text(encoding="utf-8"))
    assert written["numStartups"] == 7 and written["mcpServers"]["github"] == github
    entry = written["mcpServers"]["gatehouse"]
    assert entry == {
        "type": "http",
        "url": demo.url,
        "headersHelper": f"GATEHOUSE_HOME={demo.home} {os.path.realpath(APP)} token header",
    }, entry
    # Claude Code asks Gatehouse for the token: it is in no file and was on
    # no command line.
    assert demo.token not in state.read_text(encoding="utf-8")
    argv = (tmp_path / "claude-argv").read_text(encoding="utf-8")
    assert "mcp add-json --scope user gatehouse" in argv and demo.token not in argv, argv

    # Claude Code's own health check runs the helper and connects.
    listed = claude(env, "mcp", "list")
    assert f"gatehouse: {demo.url} (HTTP) - ✔ Connected" in listed, listed
    states = {c["id"]: c for c in json.loads(run_app(env, "client", "list", "--json").stdout)}
    assert states["claude-code"]["user"]["state"] == "registered", states["claude-code"]

    # A wrong token is refused: the check above is not vacuous.
    broken = dict(entry, headersHelper="echo '{\"Authorization\": \"Bearer not-the-token-0000\"}'")
    claude(env, "mcp", "remove", "gatehouse", "--scope", "user")
    claude(env, "mcp", "add-json", "--scope", "user", "gatehouse", json.dumps(broken))
    assert "gatehouse: " + demo.url + " (HTTP) - ✘ Failed to connect" in claude(env, "mcp", "list")
    states = {c["id"]: c for c in json.loads(run_app(env, "client", "list", "--json").stdout)}
    assert states["claude-code"]["user"]["state"] == "outdated", states["claude-code"]
    run_app(env, "client", "register", "claude-code")
    assert "✔ Connected" in claude(env, "mcp", "list")

    done = run_app(env, "client", "unregister", "claude-code")
    assert "through `claude mcp`" in done.stdout, done.stdout
    after = json.loads(state.read_text(encoding="utf-8"))
    assert after["mcpServers"] == {"github": github} and after["numStartups"] == 7
    assert "mcp remove gatehouse --scope user" in (tmp_path / "claude-argv").read_text(encoding="utf-8")


def test_undo_in_claude_codes_state_file_puts_back_only_gatehouses_entry(demo: Gatehouse, tmp_path: Path):
    env = with_claude(demo, tmp_path)
    state = user_home(demo) / ".claude.json"
    state.write_text(json.dumps({"numStartups": 1, "mcpServers": {}}, indent=2) + "\n", encoding="utf-8")
    run_app(env, "client", "register", "claude-code")
    # Claude Code keeps writing its state after that.
    written = json.loads(state.read_text(encoding="utf-8"))
    written["numStartups"] = 2
    written["projects"] = {"/home/ada/app": {"allowedTools": ["Bash(npm test)"]}}
    state.write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")

    run_app(env, "client", "undo", "claude-code")
    after = json.loads(state.read_text(encoding="utf-8"))
    assert "gatehouse" not in after["mcpServers"]
    assert after["numStartups"] == 2 and after["projects"] == written["projects"], after


# --------------------------------------------------------- safe writes


def test_an_unparseable_file_is_refused_and_left_byte_for_byte(demo: Gatehouse):
    path = user_home(demo) / ".config" / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir(parents=True)
    broken = b'{\n  "mcpServers": {\n    "github": {"command": "npx"}\n  // a comment\n}\n'
    path.write_bytes(broken)
    done = client(demo, "register", "claude-desktop", check=False)
    assert done.returncode == 1
    assert str(path) in done.stderr and "line 4" in done.stderr, done.stderr
    assert "did not change it" in done.stderr
    assert path.read_bytes() == broken
    # `doctor` points at it too, and at nothing else about clients.
    checks = {c["name"]: c for c in json.loads(demo.app("doctor", "--json", check=False).stdout)}
    assert checks["client claude-desktop"]["status"] == "warn", checks
    assert "line 4, column 3" in checks["client claude-desktop"]["summary"], checks
    assert path.read_bytes() == broken
    assert not (demo.home / "data" / "client-backups").exists() or not any(
        (demo.home / "data" / "client-backups").rglob("*.bak")
    )


def test_dry_run_shows_the_diff_with_the_token_masked_and_writes_nothing(demo: Gatehouse):
    path = user_home(demo) / ".cursor" / "mcp.json"
    done = client(demo, "register", "cursor", "--dry-run")
    assert not path.exists()
    assert '+      "url": "' + demo.url in done.stdout, done.stdout
    assert "Bearer ****" in done.stdout and demo.token not in done.stdout + done.stderr


def test_register_then_unregister_and_undo_give_back_the_users_file(demo: Gatehouse):
    path = user_home(demo) / ".gemini" / "settings.json"
    path.parent.mkdir(parents=True)
    original = (
        "// Gemini CLI settings\n"
        "{\n"
        '  "theme": "GitHub",\n'
        '  "mcpServers": {\n'
        '    "fs": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"] }, // mine\n'
        "  },\n"
        "}\n"
    )
    path.write_text(original, encoding="utf-8")
    client(demo, "register", "gemini")
    registered = path.read_text(encoding="utf-8")
    assert "// mine" in registered and '"gatehouse"' in registered
    client(demo, "unregister", "gemini")
    assert path.read_text(encoding="utf-8") == original
    client(demo, "undo", "gemini")  # back to the registered version
    assert path.read_text(encoding="utf-8") == registered
    client(demo, "undo", "gemini")  # and to the user's own
    assert path.read_text(encoding="utf-8") == original


# -------------------------------------------------------------- import


def test_import_moves_a_plaintext_key_into_the_keyring_and_out_of_every_file(scratch_home: Path):
    require_private_keyring("stores an imported secret in the keyring")
    key = "sk-test-" + random_token()[:32]
    user = scratch_home / "user-home"
    config = user / ".config" / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir(parents=True)
    memory_file = scratch_home / "memory.jsonl"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "memory": {
                        "command": MEMORY,
                        "env": {"MEMORY_API_KEY": key, "MEMORY_FILE_PATH": str(memory_file)},
                    },
                    "remote": {"url": "https://example.com/mcp"},
                },
                "preferences": {"menuBarEnabled": False},
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    instance = start_gatehouse(scratch_home, DEMO_TOML, token=random_token(), wait_for_servers=("demo",))
    try:
        preview = instance.app("client", "import", "claude-desktop", "--replace", "--dry-run")
        assert "MEMORY_API_KEY → OS keyring" in preview.stdout, preview.stdout
        assert '-        "MEMORY_API_KEY": "****",' in preview.stdout, preview.stdout
        assert key not in preview.stdout + preview.stderr
        assert "memory" in json.loads(config.read_text(encoding="utf-8"))["mcpServers"]

        done = instance.app("client", "import", "claude-desktop", "--replace")
        assert "Moved to the OS keyring: memory/MEMORY_API_KEY." in done.stdout, done.stdout
        # The running Gatehouse starts the imported server, with its key.
        servers = instance.wait_running(["demo", "memory"])
        environ = Path(f"/proc/{servers['memory']['pid']}/environ").read_bytes().split(b"\0")
        assert f"MEMORY_API_KEY={key}".encode() in environ
        assert f"MEMORY_FILE_PATH={memory_file}".encode() in environ

        written = json.loads(config.read_text(encoding="utf-8"))
        assert set(written["mcpServers"]) == {"remote", "gatehouse"}
        assert written["preferences"] == {"menuBarEnabled": False}
        toml = (scratch_home / "gatehouse.toml").read_text(encoding="utf-8")
        assert 'secret_env = ["MEMORY_API_KEY"]' in toml

        assert files_containing(scratch_home, key) == []
    finally:
        instance.stop()
    # Also after Gatehouse stopped (its logs and database flushed).
    assert files_containing(scratch_home, key) == []
    secrets = run_app(instance.env, "secret", "list", "memory").stdout
    assert "MEMORY_API_KEY" in secrets and "set" in secrets


# ------------------------------------------------------ token rotation


def test_rotating_the_token_updates_the_entries_gatehouse_wrote(scratch_home: Path):
    require_private_keyring("rotates the keyring token")
    instance = start_gatehouse(scratch_home, DEMO_TOML, token=None, wait_for_servers=("demo",))
    try:
        client(instance, "register", "cursor")
        client(instance, "register", "codex")
        cursor = user_home(instance) / ".cursor" / "mcp.json"
        codex = user_home(instance) / ".codex" / "config.toml"
        old = json.loads(cursor.read_text(encoding="utf-8"))["mcpServers"]["gatehouse"]

        done = instance.app("token", "rotate")
        assert f"Updated Gatehouse's entry in {cursor}." in done.stdout, done.stdout
        fresh = instance.token_show()["token"]
        entry = json.loads(cursor.read_text(encoding="utf-8"))["mcpServers"]["gatehouse"]
        assert entry["headers"] == {"Authorization": f"Bearer {fresh}"} != old["headers"]
        assert f'Authorization = "Bearer {fresh}"' in codex.read_text(encoding="utf-8")
        assert "demo__read_note" in inspector_tools(entry["url"], entry["headers"])
        listed = {c["id"]: c for c in json.loads(client(instance, "list", "--json").stdout)}
        assert listed["cursor"]["user"]["state"] == "registered"
    finally:
        instance.stop()
