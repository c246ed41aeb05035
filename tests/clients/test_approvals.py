"""The approval gate as a real MCP client meets it, answered with the real CLI.

Every `tools/call` through Gatehouse passes the gate: the user's rule, a
changed definition (asks), "always allow", then the tool's annotations. A
call that asks waits until someone runs `gatehouse approvals approve|deny ID`
(over the control socket), the timeout denies it, or its client cancels it.
Each call ends up as one hash-chained row of the SQLite call log, which
`gatehouse log` filters and exports and `gatehouse log verify` checks.

The client is the official Python SDK over Streamable HTTP; the servers are
the built-in demo server (read_note and list_notes read-only, add_note not
destructive, delete_note destructive) and `fixtures/shifty_server.py` (twice: one
speaking only the legacy protocol, one that Gatehouse speaks 2026-07-28
with), whose `flip` tool redefines its `wipe` tool as harmless.

Most tests share one Gatehouse (`gh`, module scope). Tests that answer with
`--always` make that tool stop asking for the rest of the module, so they
come after every test that needs the same tool to ask (pytest keeps file
order, also under -k). The timeout, server-secret and log tests get their
own homes.
Every wait is a condition with a deadline.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import anyio
import httpx2
import mcp_types as types
import pytest
from conftest import (
    APP,
    PYTHON,
    ROOT,
    Gatehouse,
    base_env,
    random_token,
    require_private_keyring,
    run_app,
    start_gatehouse,
    toml_string,
    wait_for,
)
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

SHIFTY_SERVER = str(ROOT / "tests/clients/fixtures/shifty_server.py")
CLIENT_INFO = types.Implementation(name="approvals-test", version="1.2.3")
CLIENT = "approvals-test/1.2.3"
LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
DB = "data/gatehouse.db"

DEMO_TOML = '[servers.demo]\ncommand = "gatehouse"\nargs = ["demo-server"]\n'

DENIED = "The user denied this call: Gatehouse did not run `{tool}` on `{server}`."
POLICY_DENIES = "Gatehouse's policy denies `{tool}` on `{server}`, so the call did not run."

ROW_FIELDS = {
    "id", "time_ms", "client", "server", "tool", "arguments", "arguments_hash", "policy", "decision",
    "decided_by", "wait_ms", "outcome", "outcome_detail", "duration_ms", "prev_hash", "hash",
}


# ---------------------------------------------------------------- helpers


@asynccontextmanager
async def connect(gh: Gatehouse, mode: str = "legacy"):
    """A Python SDK client on Gatehouse's /mcp, introducing itself as CLIENT."""
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {gh.token}"}, timeout=httpx2.Timeout(30, read=300)
    )
    async with http:
        async with Client(
            streamable_http_client(gh.url, http_client=http), mode=mode, client_info=CLIENT_INFO
        ) as client:
            yield client


def text_of(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


def pending(env: dict[str, str]) -> list[dict]:
    """`gatehouse approvals --pending --json`: the calls waiting now."""
    return json.loads(run_app(env, "approvals", "--pending", "--json").stdout)


def log_rows(env: dict[str, str], *filters: str) -> list[dict]:
    """`gatehouse log --json` with `filters`, every matching row (newest first)."""
    return json.loads(run_app(env, "log", "--json", "--limit", "0", *filters).stdout)


def wait_pending(gh: Gatehouse, what: str, match: Callable[[dict], bool], timeout: float = 40) -> dict:
    """Polls the pending list until one call matches; returns it."""

    def probe():
        found = [call for call in pending(gh.env) if match(call)]
        assert len(found) <= 1, f"more than one pending call matches: {found}"
        return found[0] if found else None

    return wait_for(f"{what} to be pending", probe, timeout, interval=0.2)


def wait_rows(env: dict[str, str], what: str, match: Callable[[dict], bool], *filters: str,
              count: int = 1, timeout: float = 30) -> list[dict]:
    """Polls the log until `count` rows match (rows are written by a
    background thread, just after the client has its answer); returns them."""

    def probe():
        rows = [row for row in log_rows(env, *filters) if match(row)]
        assert len(rows) <= count, f"more than {count} log rows for {what}: {rows}"
        return rows if len(rows) == count else None

    return wait_for(f"{count} log row(s) for {what}", probe, timeout, interval=0.2)


def is_call(server: str, tool: str, **arguments: Any) -> Callable[[dict], bool]:
    """Matches a pending call or a log row of `server`'s `tool` whose arguments
    include `arguments`."""

    def match(item: dict) -> bool:
        args = item["arguments"]
        if isinstance(args, str):
            args = json.loads(args)
        return (
            item["server"] == server
            and item["tool"] == tool
            and all(args.get(key) == value for key, value in arguments.items())
        )

    return match


async def in_thread(function: Callable, *args):
    return await anyio.to_thread.run_sync(lambda: function(*args))


async def call_and_answer(gh: Gatehouse, client: Client, server: str, tool: str, arguments: dict,
                          *answer: str, shown: dict | None = None) -> tuple[dict, types.CallToolResult]:
    """Calls `server__tool`, which must ask: waits until it is pending (with
    `shown` among its arguments as listed, by default `arguments`), runs
    `gatehouse approvals ANSWER... ID`, and returns (the pending call as the
    CLI listed it, the client's result)."""
    match = is_call(server, tool, **(arguments if shown is None else shown))
    outcome: dict = {}

    async def call():
        outcome["result"] = await client.call_tool(f"{server}__{tool}", arguments)

    with anyio.fail_after(90):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            entry = await in_thread(wait_pending, gh, f"{server}__{tool}", match)
            await in_thread(gh.app, "approvals", *answer, str(entry["id"]))
    return entry, outcome["result"]


async def call_without_asking(gh: Gatehouse, client: Client, server: str, tool: str,
                              arguments: dict) -> types.CallToolResult:
    """Calls `server__tool`, which must not ask: fails at once (denying it)
    if the call shows up in the pending list before it has its result."""
    outcome: dict = {}
    asked: list[dict] = []

    async def call():
        outcome["result"] = await client.call_tool(f"{server}__{tool}", arguments)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            while "result" not in outcome:
                asked = [c for c in await in_thread(pending, gh.env) if is_call(server, tool, **arguments)(c)]
                if asked:
                    for entry in asked:
                        await in_thread(gh.app, "approvals", "deny", str(entry["id"]))
                    break
                await anyio.sleep(0.1)
    assert not asked, f"{server}__{tool} {arguments} asked for approval, though it should not: {asked}"
    return outcome["result"]


async def add_note(gh: Gatehouse, client: Client, title: str) -> int:
    """Adds a demo note (add_note is not destructive: allowed) and returns its id."""
    added = await call_without_asking(gh, client, "demo", "add_note", {"title": title, "body": "b"})
    found = re.fullmatch(r"added note (\d+)", text_of(added))
    assert not added.is_error and found, added
    return int(found.group(1))


def note_ids(listed: types.CallToolResult) -> set[int]:
    return {note["id"] for note in json.loads(text_of(listed))}


# ---------------------------------------------------------------- fixtures


# The two fixtures/shifty_server.py servers of `gh`: by the protocol era
# Gatehouse speaks with them (it tries 2026-07-28 first and falls back).
SHIFTY = {"legacy": "shifty", "2026-07-28": "shifty2026"}


def shifty_toml(home: Path, name: str, era: str) -> str:
    return (
        f"[servers.{name}]\n"
        f"command = {toml_string(PYTHON)}\n"
        f"args = [{toml_string(SHIFTY_SERVER)}]\n"
        f"env = {{ SHIFTY_SERVER_EVENTS = {toml_string(str(home / f'{name}-events.txt'))}, "
        f"SHIFTY_SERVER_ERA = {toml_string(era)} }}\n"
    )


def shifty_events(gh: Gatehouse, server: str) -> list[str]:
    """What reached that fixtures/shifty_server.py: `<tool> <target>` per call."""
    path = gh.home / f"{server}-events.txt"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(scope="module")
def gh(tmp_path_factory):
    """One Gatehouse with `demo` and the two shifty servers, default approval
    settings."""
    home = tmp_path_factory.mktemp("approvals")
    config = DEMO_TOML + "".join("\n" + shifty_toml(home, name, era) for era, name in SHIFTY.items())
    instance = start_gatehouse(home, config, token=random_token(), wait_for_servers=["demo", *SHIFTY.values()])
    yield instance
    try:  # a failed test's call leaves the queue as its client goes away
        left = wait_for("no calls waiting", lambda: pending(instance.env) == [], 15) and []
    except AssertionError:
        left = pending(instance.env)
    code = instance.stop()
    assert not left, f"calls still waiting at the end of the module: {left}"
    assert code == 0, f"gatehouse serve did not stop cleanly (exit {code})"


# ------------------------------------------------- 1. allowed by annotations


def test_a_read_only_tool_never_asks_and_is_logged_as_allowed_by_rule(gh: Gatehouse):
    async def main():
        async with connect(gh) as client:
            read = await call_without_asking(gh, client, "demo", "read_note", {"id": 1})
            listed = await call_without_asking(gh, client, "demo", "list_notes", {})
        return read, listed

    read, listed = anyio.run(main)
    assert not read.is_error and text_of(read).startswith("# Welcome to Gatehouse"), read
    assert not listed.is_error and 1 in note_ids(listed), listed
    assert pending(gh.env) == []
    (row,) = wait_rows(gh.env, "read_note 1", is_call("demo", "read_note", id=1), "--tool", "read_note")
    assert row["arguments"] == {"id": 1}, row
    assert (row["policy"], row["decision"], row["decided_by"], row["outcome"]) == ("allow", "allowed", "rule", "ok")
    assert row["client"] == CLIENT and row["wait_ms"] < 5000, row
    assert set(row) == ROW_FIELDS, sorted(row)


# ------------------------------------------------- 2. ask, then deny


def test_a_destructive_call_waits_and_a_denial_reaches_the_client_with_secrets_masked(gh: Gatehouse):
    secret = f"sk-test-{random_token()[:16]}"

    async def main():
        async with connect(gh) as client:
            note = await add_note(gh, client, "keep me")
            entry, result = await call_and_answer(
                gh, client, "demo", "delete_note", {"id": note, "api_key": secret}, "deny", shown={"id": note}
            )
            still = await call_without_asking(gh, client, "demo", "read_note", {"id": note})
        return note, entry, result, still

    note, entry, result, still = anyio.run(main)
    # What the CLI listed while the call waited.
    assert (entry["server"], entry["tool"], entry["client"]) == ("demo", "delete_note", CLIENT), entry
    assert entry["reasonText"] == "`delete_note` is marked destructive.", entry
    assert entry["arguments"] == {"id": note, "api_key": "****"}, entry
    assert entry["title"] == "Delete a note" and entry["description"], entry
    assert entry["annotations"] == {"readOnly": False, "destructive": True, "idempotent": True, "openWorld": False}
    assert entry["changes"] == [], entry
    assert entry["deadlineMs"] - entry["askedAtMs"] == 120_000, "the default timeout is 120 s"
    assert entry["askedAtMs"] <= time.time() * 1000 < entry["deadlineMs"], entry

    assert result.is_error, result
    assert text_of(result).startswith(DENIED.format(tool="delete_note", server="demo")), text_of(result)
    assert not still.is_error and text_of(still).startswith("# keep me"), "a denied call ran"
    assert all(call["id"] != entry["id"] for call in pending(gh.env))

    match = is_call("demo", "delete_note", id=note)
    (row,) = wait_rows(gh.env, "the denied call", match, "--decision", "denied")
    assert (row["policy"], row["decision"], row["decided_by"], row["outcome"]) == ("ask", "denied", "cli", "not_run")
    assert row["client"] == CLIENT and row["duration_ms"] == 0, row
    assert row["arguments"] == {"id": note, "api_key": "****"}, row
    assert secret not in json.dumps(row)

    # Without --pending: the waiting calls and the recent answers.
    report = json.loads(gh.app("approvals", "--json").stdout)
    assert report["pending"] == [], report
    assert [r["id"] for r in report["recent"] if match(r)] == [row["id"]], report["recent"]

    # The secret never reached the disk: not the database, not its WAL, not a log.
    files = [p for p in gh.home.rglob("*") if p.is_file()]
    assert (gh.home / DB) in files and (gh.home / (DB + "-wal")) in files, sorted(map(str, files))
    leaks = [str(p) for p in files if secret.encode() in p.read_bytes()]
    assert not leaks, f"the secret argument was written to {leaks}"


def test_the_servers_own_secret_values_are_masked_wherever_they_appear(tmp_path):
    """A value from the server's `secret_env` (kept in the keyring) is masked
    inside any argument, whatever its key, in the pending list and the log."""
    require_private_keyring("stores a secret in the keyring")
    secret = f"vault-{random_token()[:24]}"
    home = tmp_path / "home"
    (home / "user-home").mkdir(parents=True)
    config = DEMO_TOML.replace("demo]", "vault]") + 'secret_env = ["NOTES_KEY"]\n'
    (home / "gatehouse.toml").write_text(config)
    env = base_env(home, home / "user-home")
    stored = subprocess.run([APP, "secret", "set", "vault", "NOTES_KEY"], env=env, input=secret + "\n",
                            capture_output=True, text=True, timeout=30)
    assert stored.returncode == 0, stored.stderr
    gh = None
    try:
        gh = start_gatehouse(home, config, token=random_token(), wait_for_servers=["vault"])

        async def main():
            async with connect(gh) as client:
                arguments = {"id": 1, "note": f"the key is {secret}!", "nested": [secret]}
                return await call_and_answer(gh, client, "vault", "delete_note", arguments, "deny", shown={"id": 1})

        entry, result = anyio.run(main)
        masked = {"id": 1, "note": "the key is ****!", "nested": ["****"]}
        assert entry["arguments"] == masked, entry
        assert result.is_error and text_of(result).startswith(DENIED.format(tool="delete_note", server="vault"))
        (row,) = wait_rows(gh.env, "the denied call", is_call("vault", "delete_note", id=1))
        assert row["arguments"] == masked, row
        leaks = [str(p) for p in home.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
        assert not leaks, f"the server's secret was written to {leaks}"
    finally:
        if gh is not None:
            assert gh.stop() == 0
        run_app(env, "secret", "remove", "vault", "NOTES_KEY", check=False)


# ------------------------------------------------- 5. the client withdraws


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_a_call_its_client_cancels_leaves_the_queue_and_is_logged_cancelled(gh: Gatehouse, mode):
    """Legacy: the SDK sends notifications/cancelled; 2026-07-28: it drops the
    request's stream. Either way the call stops waiting."""

    async def main():
        async with connect(gh, mode) as client:
            note = await add_note(gh, client, f"cancel {mode}")
            with anyio.fail_after(60):
                with anyio.CancelScope() as scope:
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(client.call_tool, "demo__delete_note", {"id": note})
                        match = is_call("demo", "delete_note", id=note)
                        entry = await in_thread(wait_pending, gh, "delete_note", match)
                        scope.cancel()
                assert scope.cancelled_caught
                gone = await in_thread(
                    wait_for,
                    "the cancelled call to leave the pending list",
                    lambda: all(call["id"] != entry["id"] for call in pending(gh.env)),
                    30,
                )
                # The session still works, and the note was not deleted.
                still = await call_without_asking(gh, client, "demo", "read_note", {"id": note})
        return note, entry, gone, still

    note, entry, gone, still = anyio.run(main)
    assert entry["client"] == CLIENT and gone
    assert not still.is_error and text_of(still).startswith(f"# cancel {mode}"), still
    (row,) = wait_rows(gh.env, "the withdrawn call", is_call("demo", "delete_note", id=note), "--tool", "delete_note")
    assert (row["policy"], row["decision"], row["decided_by"], row["outcome"]) == (
        "ask", "denied", "client", "cancelled"
    ), row


# ------------------------------------------------- 10. the MCP token cannot approve


def mcp_post(url: str, headers: dict, message: dict) -> httpx2.Response:
    return httpx2.post(url, headers=headers, content=json.dumps(message), timeout=30)


def rpc_messages(response: httpx2.Response) -> list[dict]:
    """The JSON-RPC messages of a Streamable HTTP response (JSON or SSE)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return [response.json()]
    messages = []
    for line in response.text.splitlines():
        if line.startswith("data:") and line[5:].strip():
            messages.append(json.loads(line[5:]))
    return messages


APPROVE_METHODS = ["approvals/approve", "approvals/answer", "gatehouse/approve", "approve"]


def test_the_mcp_token_cannot_approve_a_waiting_call(gh: Gatehouse):
    """No MCP method and no HTTP route answers an approval: a client (or the
    model behind it) holding the gateway token cannot let its own call through."""
    base = {
        "Authorization": f"Bearer {gh.token}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    origin = gh.url.removesuffix("/mcp")
    attempts: dict[str, Any] = {}

    def try_to_approve(call_id: int):
        # A legacy session: initialize, then the would-be approval methods.
        init = mcp_post(gh.url, base, {
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {},
                       "clientInfo": {"name": "sneaky", "version": "1"}},
        })
        assert init.status_code == 200, (init.status_code, init.text)
        session = {**base, "Mcp-Session-Id": init.headers["mcp-session-id"], "MCP-Protocol-Version": LEGACY_VERSION}
        done = mcp_post(gh.url, session, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert done.status_code == 202, (done.status_code, done.text)
        for n, method in enumerate(APPROVE_METHODS, start=1):
            params = {"id": call_id, "answer": "allow_always", "always": True}
            response = mcp_post(gh.url, session, {"jsonrpc": "2.0", "id": n, "method": method, "params": params})
            attempts[("legacy", method)] = (response.status_code, rpc_messages(response))
        # 2026-07-28, stateless.
        modern = {**base, "MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "approvals/approve"}
        meta = {
            "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "sneaky", "version": "1"},
        }
        response = mcp_post(gh.url, modern, {
            "jsonrpc": "2.0", "id": 9, "method": "approvals/approve", "params": {"id": call_id, "_meta": meta},
        })
        attempts[("modern", "approvals/approve")] = (response.status_code, rpc_messages(response))
        # Plain HTTP routes an approval API might have.
        for path in (f"/approvals/{call_id}/approve", f"/api/approvals/{call_id}", f"/mcp/approvals/{call_id}/approve"):
            response = httpx2.post(origin + path, headers=base, content=b"{}", timeout=30)
            attempts[("http", path)] = (response.status_code, response.text)

    async def main():
        async with connect(gh) as client:
            note = await add_note(gh, client, "not yours to approve")
            outcome: dict = {}

            async def call():
                outcome["result"] = await client.call_tool("demo__delete_note", {"id": note})

            with anyio.fail_after(90):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    match = is_call("demo", "delete_note", id=note)
                    entry = await in_thread(wait_pending, gh, "delete_note", match)
                    await in_thread(try_to_approve, entry["id"])
                    after = await in_thread(pending, gh.env)
                    assert "result" not in outcome, f"the call ended while nobody answered: {outcome}"
                    await in_thread(gh.app, "approvals", "deny", str(entry["id"]))
            still = await call_without_asking(gh, client, "demo", "read_note", {"id": note})
        return entry, after, outcome["result"], still

    entry, after, result, still = anyio.run(main)
    for (era, method), (status, messages) in attempts.items():
        if era == "http":
            assert status == 404, (method, status, messages)
            continue
        errors = [m["error"] for m in messages if "error" in m]
        assert errors and all(e["code"] == -32601 for e in errors), (era, method, status, messages)
        assert not any("result" in m for m in messages), (era, method, messages)
    assert [call["id"] for call in after] == [entry["id"]], f"the call is no longer pending: {after}"
    assert result.is_error and text_of(result).startswith(DENIED.format(tool="delete_note", server="demo")), result
    assert not still.is_error, "the note was deleted"


# ------------------------------------------------- 3. approve once, approve always


def test_approve_once_runs_the_call_and_the_next_asks_again_while_always_stops_asking(gh: Gatehouse):
    """Comes after every test that needs demo's delete_note to ask."""

    async def main():
        async with connect(gh) as client:
            notes = [await add_note(gh, client, f"doomed {n}") for n in range(3)]
            once = await call_and_answer(gh, client, "demo", "delete_note", {"id": notes[0]}, "approve")
            gone = await call_without_asking(gh, client, "demo", "read_note", {"id": notes[0]})
            again = await call_and_answer(gh, client, "demo", "delete_note", {"id": notes[1]}, "approve", "--always")
            free = await call_without_asking(gh, client, "demo", "delete_note", {"id": notes[2]})
            listed = await call_without_asking(gh, client, "demo", "list_notes", {})
        return notes, once, gone, again, free, listed

    notes, (once_entry, once), gone, (again_entry, again), free, listed = anyio.run(main)
    assert once_entry["reasonText"] == again_entry["reasonText"] == "`delete_note` is marked destructive."
    for n, (note, result) in enumerate(zip(notes, (once, again, free))):
        assert not result.is_error and text_of(result) == f"deleted note {note} (doomed {n})", result
    assert gone.is_error and text_of(gone).startswith(f"there is no note with id {notes[0]}"), gone
    assert not set(notes) & note_ids(listed), listed

    rows = {}
    for note in notes:
        (rows[note],) = wait_rows(gh.env, f"delete_note {note}", is_call("demo", "delete_note", id=note),
                                  "--tool", "delete_note")
    shape = lambda row: (row["policy"], row["decision"], row["decided_by"], row["outcome"])  # noqa: E731
    assert shape(rows[notes[0]]) == ("ask", "allowed", "cli", "ok"), rows[notes[0]]
    assert shape(rows[notes[1]]) == ("ask", "allowed", "cli", "ok"), rows[notes[1]]
    assert shape(rows[notes[2]]) == ("allow", "allowed", "rule", "ok"), rows[notes[2]]


# ------------------------------------------------- 6. the user's rule


def test_a_deny_rule_set_on_the_running_instance_refuses_without_asking_and_default_restores(gh: Gatehouse):
    config = gh.home / "gatehouse.toml"
    marker = 1

    async def call_until(client, refused: bool) -> tuple[types.CallToolResult, int]:
        """read_note until the reloaded rule applies (hot reload is not
        instant); returns the result and the call's `try` marker."""
        nonlocal marker
        with anyio.fail_after(30):
            while True:
                marker += 1
                result = await call_without_asking(gh, client, "demo", "read_note", {"id": 1, "try": marker})
                if result.is_error == refused:
                    return result, marker
                await anyio.sleep(0.1)

    async def main():
        async with connect(gh) as client:
            await in_thread(gh.app, "server", "policy", "demo", "read_note", "deny")
            try:
                text = config.read_text()
                refused = await call_until(client, refused=True)
            finally:
                await in_thread(gh.app, "server", "policy", "demo", "read_note", "default")
            restored = await call_until(client, refused=False)
        return text, refused, restored

    text, (refused, refused_try), (restored, restored_try) = anyio.run(main)
    assert re.search(r'(?m)^\[servers\.demo\.tools\]\s*\nread_note = "deny"', text), text
    assert "read_note" not in config.read_text(), config.read_text()
    assert text_of(refused).startswith(POLICY_DENIES.format(tool="read_note", server="demo")), text_of(refused)
    assert text_of(restored).startswith("# Welcome to Gatehouse"), restored
    (row,) = wait_rows(gh.env, "the refused call", is_call("demo", "read_note", id=1, **{"try": refused_try}),
                       "--tool", "read_note")
    assert (row["policy"], row["decision"], row["decided_by"], row["outcome"]) == ("deny", "denied", "rule", "not_run")
    (row,) = wait_rows(gh.env, "the restored call", is_call("demo", "read_note", id=1, **{"try": restored_try}),
                       "--tool", "read_note")
    assert (row["policy"], row["decision"], row["decided_by"], row["outcome"]) == ("allow", "allowed", "rule", "ok")


# ------------------------------------------------- 7. pins


def wipe_annotations(gh: Gatehouse, server: str) -> dict:
    tools = {t["name"]: t for t in json.loads(gh.app("server", "tools", server, "--json").stdout)}
    return tools["wipe"]["annotations"]


@pytest.mark.parametrize(
    "era",
    # A 2026-07-28 server announces the change only on the subscriptions/listen
    # stream Gatehouse opens to it; a legacy one with notifications/tools/list_changed.
    ["legacy", "2026-07-28"],
)
def test_a_changed_definition_suspends_always_allow_and_asks_until_accepted(gh: Gatehouse, era):
    server = SHIFTY[era]

    async def main():
        async with connect(gh) as client:
            first, wiped_a = await call_and_answer(gh, client, server, "wipe", {"target": "a"}, "approve", "--always")
            wiped_b = await call_without_asking(gh, client, server, "wipe", {"target": "b"})
            flipped = await call_without_asking(gh, client, server, "flip", {})
            await in_thread(
                wait_for,
                f"`gatehouse server tools {server}` to show wipe's new annotations",
                lambda: wipe_annotations(gh, server).get("destructiveHint") is False,
                20,
            )
            changed, denied = await call_and_answer(gh, client, server, "wipe", {"target": "c"}, "deny")
            after_deny = shifty_events(gh, server)
            again, approved = await call_and_answer(gh, client, server, "wipe", {"target": "d"}, "approve")
            accepted = await call_without_asking(gh, client, server, "wipe", {"target": "e"})
        return first, (wiped_a, wiped_b, flipped), changed, denied, after_deny, again, approved, accepted

    first, before_flip, changed, denied, after_deny, again, approved, accepted = anyio.run(main)
    assert first["reasonText"] == "`wipe` is marked destructive." and first["changes"] == [], first
    assert [text_of(r) for r in before_flip] == ["wiped a", "wiped b", "flipped"], before_flip

    # The new definition asks despite "always allow", and shows what changed.
    assert "definition changed" in changed["reasonText"], changed
    assert changed["annotations"]["destructive"] is False, changed
    changes = {c["path"]: c for c in changed["changes"]}
    assert changes.get("annotations.destructiveHint") == {
        "path": "annotations.destructiveHint", "before": True, "after": False
    }, changed["changes"]
    assert changes["description"]["before"] == "Erases the target for good.", changes
    assert changes["description"]["after"].startswith("Tidies the target up"), changes

    assert denied.is_error and text_of(denied).startswith(DENIED.format(tool="wipe", server=server)), denied
    assert "wipe c" not in after_deny, after_deny
    # Denying leaves the change unaccepted: the next call asks again.
    assert again["changes"] == changed["changes"] and "definition changed" in again["reasonText"], again
    assert text_of(approved) == "wiped d" and text_of(accepted) == "wiped e"
    assert shifty_events(gh, server) == ["wipe a", "wipe b", "flip -", "wipe d", "wipe e"]

    rows = {}
    for target in "abcde":
        (rows[target],) = wait_rows(gh.env, f"wipe {target}", is_call(server, "wipe", target=target),
                                    "--server", server)
    by = {target: (row["policy"], row["decision"], row["decided_by"]) for target, row in rows.items()}
    assert by == {
        "a": ("ask", "allowed", "cli"),
        "b": ("allow", "allowed", "rule"),  # always allow
        "c": ("ask", "denied", "cli"),
        "d": ("ask", "allowed", "cli"),
        "e": ("allow", "allowed", "rule"),  # accepted, and now not destructive
    }, by


# ------------------------------------------------- 4. the timeout


def test_an_unanswered_call_is_denied_when_the_timeout_passes(tmp_path):
    config = "[approvals]\ntimeout_secs = 10\n\n" + DEMO_TOML
    gh = start_gatehouse(tmp_path / "home", config, token=random_token(), wait_for_servers=["demo"])
    try:

        async def main():
            async with connect(gh) as client:
                outcome: dict = {}

                async def call():
                    outcome["result"] = await client.call_tool("demo__delete_note", {"id": 1})
                    outcome["at"] = time.monotonic()

                with anyio.fail_after(60):
                    async with anyio.create_task_group() as tg:
                        started = time.monotonic()
                        tg.start_soon(call)
                        match = is_call("demo", "delete_note", id=1)
                        entry = await in_thread(wait_pending, gh, "delete_note", match)
                left = await in_thread(pending, gh.env)
                still = await call_without_asking(gh, client, "demo", "read_note", {"id": 1})
            return entry, outcome["result"], outcome["at"] - started, left, still

        entry, result, waited, left, still = anyio.run(main)
        assert entry["deadlineMs"] - entry["askedAtMs"] == 10_000, entry
        assert result.is_error, result
        assert "No one answered Gatehouse's approval request within 10 s" in text_of(result), text_of(result)
        assert 9.5 <= waited < 40, f"the call was denied after {waited:.1f} s"
        assert left == [], left
        assert not still.is_error, "the timed-out call ran"
        (row,) = wait_rows(gh.env, "the timed-out call", is_call("demo", "delete_note", id=1))
        assert (row["policy"], row["decision"], row["decided_by"], row["outcome"]) == (
            "ask", "denied", "timeout", "not_run"
        ), row
        assert 9_500 <= row["wait_ms"] < 40_000, row
    finally:
        assert gh.stop() == 0


# ------------------------------------------------- 8, 9. the log, offline

# (server, tool, arguments) of the calls the `logged` fixture makes, in order:
# BEFORE, then AFTER once the clock has passed a whole second.
LOG_BEFORE = [
    ("demo", "read_note", {"id": 1}),
    ("demo", "add_note", {"title": "alpha needle", "body": "first"}),
    ("demo", "delete_note", {"id": 1}),  # denied by the user's rule
    ("other", "list_notes", {}),
]
LOG_AFTER = [
    ("other", "add_note", {"title": "50% off", "body": "sale"}),
    ("other", "add_note", {"title": "500 items", "body": "stock"}),
    ("other", "read_note", {"id": 99}),  # no such note: allowed, outcome error
    ("demo", "delete_note", {"id": 2}),  # denied by the user's rule
    ("demo", "read_note", {"id": 2}),
]
LOG_CALLS = LOG_BEFORE + LOG_AFTER


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """A home whose log holds the LOG_CALLS rows, its Gatehouse stopped
    cleanly. Yields (env, the UTC second between BEFORE and AFTER, a pristine
    copy of the database)."""
    home = tmp_path_factory.mktemp("logged")
    config = DEMO_TOML + '\n[servers.demo.tools]\ndelete_note = "deny"\n\n' + DEMO_TOML.replace("demo]", "other]")
    gh = start_gatehouse(home, config, token=random_token(), wait_for_servers=["demo", "other"])
    try:

        async def calls(batch):
            async with connect(gh) as client:
                for server, tool, arguments in batch:
                    await call_without_asking(gh, client, server, tool, arguments)

        anyio.run(calls, LOG_BEFORE)
        wait_for("the first rows", lambda: len(log_rows(gh.env)) == len(LOG_BEFORE), 30)
        boundary = int(time.time()) + 1
        while time.time() < boundary + 0.05:  # the clock, not a condition: wait it out
            time.sleep(0.05)
        anyio.run(calls, LOG_AFTER)
        wait_for("every row", lambda: len(log_rows(gh.env)) == len(LOG_CALLS), 30)
    finally:
        code = gh.stop()
    assert code == 0, f"gatehouse serve did not stop cleanly (exit {code})"
    # A clean stop does not always close the log's database: its -wal, which may
    # hold everything (schema included), can be left behind. So the pristine
    # copy is SQLite's own backup (the database with its WAL applied), not the
    # .db file alone.
    pristine = home / "pristine.db"
    with sqlite3.connect(home / DB) as source, sqlite3.connect(pristine) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    assert not pristine.with_name(pristine.name + "-wal").exists()
    yield gh.env, boundary, pristine


def rows_of(env, *filters: str) -> list[tuple]:
    """(server, tool, arguments) of the rows `gatehouse log --json FILTERS`
    prints, oldest first."""
    return [(r["server"], r["tool"], r["arguments"]) for r in reversed(log_rows(env, *filters))]


def test_log_filters_and_exports_select_the_right_rows_without_a_running_instance(logged):
    env, boundary, _ = logged
    everything = rows_of(env)
    assert everything == LOG_CALLS, everything
    rows = log_rows(env)
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids), "newest first"
    assert all(r["client"] == CLIENT and set(r) == ROW_FIELDS for r in rows), rows

    def only(predicate):
        return [c for c in LOG_CALLS if predicate(*c)]

    assert rows_of(env, "--server", "other") == only(lambda s, t, a: s == "other")
    assert rows_of(env, "--tool", "read_note") == only(lambda s, t, a: t == "read_note")
    assert rows_of(env, "--server", "demo", "--tool", "read_note") == only(
        lambda s, t, a: (s, t) == ("demo", "read_note")
    )
    assert rows_of(env, "--decision", "denied") == only(lambda s, t, a: t == "delete_note")
    assert rows_of(env, "--decision", "allowed") == only(lambda s, t, a: t != "delete_note")
    assert rows_of(env, "--search", "needle") == [LOG_CALLS[1]]
    assert rows_of(env, "--search", "50%") == [LOG_AFTER[0]], "% in a search matches itself"
    assert rows_of(env, "--search", "nothing like this") == []
    assert rows_of(env, "--tool", "nosuch") == []

    since = datetime.fromtimestamp(boundary, timezone.utc)
    yesterday = (since - timedelta(days=1)).strftime("%Y-%m-%d")
    assert rows_of(env, "--since", since.strftime("%Y-%m-%dT%H:%M:%SZ")) == LOG_AFTER
    assert rows_of(env, "--since", "1h") == LOG_CALLS
    assert rows_of(env, "--since", yesterday) == LOG_CALLS
    assert rows_of(env, "--since", (since + timedelta(days=1)).strftime("%Y-%m-%d")) == []
    assert rows_of(env, "--since", yesterday, "--server", "other", "--decision", "allowed") == only(
        lambda s, t, a: s == "other"
    )
    bad = run_app(env, "log", "--since", "whenever", check=False)
    assert bad.returncode != 0 and "--since" in bad.stderr, (bad.returncode, bad.stderr)

    (error_row,) = [r for r in rows if r["server"] == "other" and r["tool"] == "read_note"]
    assert (error_row["decision"], error_row["outcome"]) == ("allowed", "error"), error_row
    assert "no note with id 99" in (error_row["outcome_detail"] or ""), error_row

    limited = json.loads(run_app(env, "log", "--json", "--limit", "2").stdout)
    assert [r["id"] for r in limited] == ids[:2]

    exported = run_app(env, "log", "--csv", "--limit", "0").stdout
    lines = exported.splitlines()
    assert len(lines) == 1 + len(LOG_CALLS), lines
    parsed = list(csv.DictReader(io.StringIO(exported)))
    assert list(parsed[0]) == ["id", "time_ms", "client", "server", "tool", "arguments", "arguments_hash", "policy",
                               "decision", "decided_by", "wait_ms", "outcome", "outcome_detail", "duration_ms",
                               "prev_hash", "hash"]
    assert [int(r["id"]) for r in parsed] == ids
    assert [json.loads(r["arguments"]) for r in parsed] == [r["arguments"] for r in rows]
    assert [(r["decision"], r["decided_by"], r["hash"]) for r in parsed] == [
        (r["decision"], r["decided_by"], r["hash"]) for r in rows
    ]
    denied_csv = run_app(env, "log", "--csv", "--decision", "denied").stdout.splitlines()
    assert len(denied_csv) == 1 + 2 and denied_csv[0].startswith("id,time_ms,"), denied_csv

    table = run_app(env, "log", "--server", "other").stdout
    assert len(table.splitlines()) == 1 + 4 and "other__read_note" in table, table
    assert run_app(env, "log", "--tool", "nosuch").stdout.strip() == "No calls match."


def verify(env) -> tuple[int, str, dict]:
    """`gatehouse log verify` (exit code, its text) and `--json`'s report."""
    text = run_app(env, "log", "verify", check=False)
    report = run_app(env, "log", "verify", "--json", check=False)
    assert report.returncode == text.returncode, (text, report)
    return text.returncode, text.stdout + text.stderr, json.loads(report.stdout)


@pytest.mark.parametrize(
    "tamper, expected, named",
    [
        ("UPDATE calls SET arguments = '{\"id\":7}' WHERE id = 3", {"status": "edited", "id": 3}, "row 3 "),
        ("DELETE FROM calls WHERE id = 5", {"status": "deleted", "after_id": 4, "before_id": 6},
         "between row 4 and row 6"),
        ("DELETE FROM calls WHERE id = 9", {"status": "head_mismatch", "head_last_id": 9, "found_last_id": 8},
         "ends at row 8 but its head records row 9"),
    ],
    ids=["edited", "deleted-middle", "deleted-last"],
)
def test_log_verify_names_the_row_that_was_tampered_with(logged, scratch_home: Path, tamper, expected, named):
    env, _, pristine = logged
    env = {**env, "GATEHOUSE_HOME": str(scratch_home)}
    db = scratch_home / DB
    db.parent.mkdir(parents=True)
    shutil.copyfile(pristine, db)

    code, text, report = verify(env)
    assert code == 0 and "intact" in text, text
    assert report == {"status": "ok", "rows": len(LOG_CALLS), "anchor_id": 0, "last_id": len(LOG_CALLS)}, report

    for leftover in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(pristine, db)  # the copy verify has not opened
    with sqlite3.connect(db) as conn:
        assert conn.execute(tamper).rowcount == 1
    conn.close()

    code, text, report = verify(env)
    assert code == 1, (code, text)
    assert named in text, text
    assert report == expected, report
