"""Gatehouse's MCP endpoint and stdio bridge as real MCP clients see them.

The clients are the official Python SDK (`mcp` 2.x, both protocol eras), the
MCP Inspector's CLI and plain HTTP; the servers behind Gatehouse are real
peers: the built-in demo server, `@modelcontextprotocol/server-everything`,
`@modelcontextprotocol/server-memory`, `fixtures/slow_server.py` (a Python
SDK server that records cancellation) and `fixtures/paged_server.py` (one
whose every list paginates).

Most tests share one Gatehouse (the module-scoped `gatehouse` fixture in
conftest.py); the bridge's self-start and token rotation get their own.
Every wait is a condition with a deadline.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx2
import mcp_types as types
import pytest
from conftest import (
    APP,
    EVERYTHING,
    GATEWAY_SERVERS,
    INSPECTOR,
    MEMORY,
    Gatehouse,
    base_env,
    pid_alive,
    random_token,
    require_private_keyring,
    start_gatehouse,
    wait_for,
    wait_for_gone,
)
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ToolsListChanged
from mcp.shared.exceptions import MCPError

MODES = ["legacy", "auto"]
LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"


# ---------------------------------------------------------------- helpers


def http_client(token: str) -> httpx2.AsyncClient:
    # The SDK's own defaults: 30 s to connect and write, 300 s between SSE events.
    return httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=300)
    )


@asynccontextmanager
async def mcp_http(url: str, token: str, mode: str, **kwargs):
    """A connected Python SDK client on Gatehouse's Streamable HTTP endpoint."""
    async with http_client(token) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode, **kwargs) as client:
            yield client


def bridge_params(home: Path, *args: str, **env: str) -> StdioServerParameters:
    """`gatehouse bridge ARGS` as a stdio server for the SDK. The SDK passes only
    a safe default environment (no DISPLAY) plus `env`."""
    return StdioServerParameters(
        command=APP,
        args=["bridge", *args],
        env={"GATEHOUSE_HOME": str(home), "HOME": str(home / "user-home"), **env},
    )


def text_of(result: types.CallToolResult) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


def tool_map(result: types.ListToolsResult) -> dict[str, types.Tool]:
    return {tool.name: tool for tool in result.tools}


def hints(tool: types.Tool):
    a = tool.annotations
    return (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint)


def sum_text(a, b) -> str:
    return f"The sum of {a} and {b} is {a + b}."


def sse_messages(response: httpx2.Response) -> list[dict]:
    """The JSON-RPC messages of a Streamable HTTP response (JSON or SSE)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return [response.json()]
    messages, data = [], []
    for line in response.text.splitlines() + [""]:
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line == "":
            if data and "".join(data).strip():
                messages.append(json.loads("\n".join(data)))
            data = []
    return messages


class RawLegacySession:
    """A legacy-era Streamable HTTP session done by hand with httpx2, so the
    test sees exactly the JSON Gatehouse sends."""

    def __init__(self, url: str, token: str):
        self.url = url
        self.http = httpx2.Client(timeout=httpx2.Timeout(30, read=120))
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
        }
        self.next_id = 1

    def post(self, message: dict) -> httpx2.Response:
        return self.http.post(self.url, headers=self.headers, content=json.dumps(message))

    def initialize(self) -> dict:
        response = self.post(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": LEGACY_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "raw-httpx", "version": "1"},
                },
            }
        )
        assert response.status_code == 200, (response.status_code, response.text)
        (init,) = [m for m in sse_messages(response) if m.get("id") == 0]
        self.headers["Mcp-Session-Id"] = response.headers["mcp-session-id"]
        self.headers["MCP-Protocol-Version"] = init["result"]["protocolVersion"]
        initialized = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert initialized.status_code == 202, (initialized.status_code, initialized.text)
        return init["result"]

    def request(self, method: str, params: dict | None = None) -> tuple[dict, list[dict]]:
        """(the response, every message before it on the stream)."""
        self.next_id += 1
        rid = self.next_id
        message = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        response = self.post(message)
        assert response.status_code == 200, (response.status_code, response.text)
        messages = sse_messages(response)
        finals = [i for i, m in enumerate(messages) if m.get("id") == rid and "method" not in m]
        assert finals, f"no response for {method} in {messages}"
        return messages[finals[0]], messages[: finals[0]]

    def close(self):
        self.http.close()


async def stdio_exchange(command: list[str], requests: list[dict], timeout: float = 30) -> dict:
    """Talks raw newline-delimited JSON-RPC to a stdio server: sends `requests`
    (in order, each answered before the next) and returns {id: response}."""
    answers = {}
    with anyio.fail_after(timeout):
        async with await anyio.open_process(command, stderr=subprocess.DEVNULL) as proc:
            buffer = b""
            for message in requests:
                await proc.stdin.send((json.dumps(message) + "\n").encode())
                if "id" not in message:
                    continue
                while message["id"] not in answers:
                    while b"\n" not in buffer:
                        buffer += await proc.stdout.receive()
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        decoded = json.loads(line)
                        if "id" in decoded and "method" not in decoded:
                            answers[decoded["id"]] = decoded
            await proc.stdin.aclose()
            with anyio.move_on_after(5):
                await proc.wait()
            if proc.returncode is None:
                proc.kill()
    return answers


def inspector(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The MCP Inspector CLI (tests/clients/inspector), to completion."""
    return subprocess.run(
        [INSPECTOR, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def inspector_json(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, f"inspector exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


# ------------------------------------------------- 1. the fixture itself


def test_the_fixture_runs_every_server_behind_one_loopback_endpoint(gatehouse: Gatehouse):
    url, token, home, env = gatehouse
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/mcp", url), url
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    servers = gatehouse.servers()
    assert {name: servers[name]["state"] for name in ("demo", "everything", "slow")} == {
        "demo": "running",
        "everything": "running",
        "slow": "running",
    }
    assert servers["everything"]["resolved_command"] == EVERYTHING


# ------------------------------------------------- 2. Python SDK, both eras


@pytest.mark.parametrize("mode", MODES)
def test_the_sdk_lists_and_calls_every_servers_tools_through_mcp(gatehouse: Gatehouse, mode):
    async def main():
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            tools = tool_map(await client.list_tools())
            added = await client.call_tool("demo__add_note", {"title": f"via {mode}", "body": "hello"})
            echoed = await client.call_tool("everything__echo", {"message": f"hi {mode}"})
            summed = await client.call_tool("everything__get-sum", {"a": 19, "b": 23})
            return client.protocol_version, tools, added, echoed, summed

    version, tools, added, echoed, summed = anyio.run(main)
    assert version == (LEGACY_VERSION if mode == "legacy" else MODERN_VERSION)
    assert {"demo__add_note", "demo__delete_note", "everything__echo", "everything__get-sum", "slow__wait"} <= set(tools)
    assert all("__" in name for name in tools), sorted(tools)
    # Annotations arrive as the servers declared them.
    assert hints(tools["demo__add_note"]) == (False, False, False, False)
    assert tools["demo__add_note"].annotations.title == "Add a note"
    assert hints(tools["demo__delete_note"])[:2] == (False, True)
    assert hints(tools["everything__echo"]) == (True, False, True, False)
    assert hints(tools["everything__get-sum"]) == (True, False, True, False)
    assert tools["everything__get-sum"].input_schema["required"] == ["a", "b"]

    assert not added.is_error and re.fullmatch(r"added note \d+", text_of(added)), added
    assert not echoed.is_error and text_of(echoed) == f"Echo: hi {mode}"
    assert not summed.is_error and text_of(summed) == sum_text(19, 23)


@pytest.mark.parametrize("mode", MODES)
def test_the_sdk_sees_original_names_on_a_single_servers_endpoint(gatehouse: Gatehouse, mode):
    async def main():
        async with mcp_http(gatehouse.endpoint("everything"), gatehouse.token, mode) as everything:
            e_tools = tool_map(await everything.list_tools())
            echoed = await everything.call_tool("echo", {"message": "direct"})
        async with mcp_http(gatehouse.endpoint("demo"), gatehouse.token, mode) as demo:
            d_tools = tool_map(await demo.list_tools())
            added = await demo.call_tool("add_note", {"title": "t", "body": "b"})
        return e_tools, echoed, d_tools, added

    e_tools, echoed, d_tools, added = anyio.run(main)
    assert {"echo", "get-sum", "trigger-long-running-operation"} <= set(e_tools)
    assert not any("__" in name for name in e_tools), sorted(e_tools)
    assert hints(e_tools["echo"]) == (True, False, True, False)
    assert sorted(d_tools) == ["add_note", "delete_note", "list_notes", "read_note"]
    assert text_of(echoed) == "Echo: direct"
    assert not added.is_error and text_of(added).startswith("added note ")


@pytest.mark.parametrize("mode", MODES)
def test_prompts_are_namespaced_and_resources_keep_their_uris(gatehouse: Gatehouse, mode):
    async def main():
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            prompts = [p.name for p in (await client.list_prompts()).prompts]
            prompt = await client.get_prompt("everything__simple-prompt")
            resources = [str(r.uri) for r in (await client.list_resources()).resources]
            read = await client.read_resource("demo://resource/static/document/architecture.md")
        return prompts, prompt, resources, read

    prompts, prompt, resources, read = anyio.run(main)
    assert {"everything__simple-prompt", "everything__args-prompt"} <= set(prompts)
    assert prompt.messages[0].content.text == "This is a simple prompt without arguments."
    assert "demo://resource/static/document/architecture.md" in resources
    assert read.contents[0].mime_type == "text/markdown" and read.contents[0].text.startswith("#")


def test_the_gateway_token_never_reaches_a_server(gatehouse: Gatehouse):
    """server-everything's get-env dumps its whole environment."""

    async def main():
        async with mcp_http(gatehouse.url, gatehouse.token, "legacy") as client:
            return await client.call_tool("everything__get-env", {})

    dumped = text_of(anyio.run(main))
    assert "PATH" in dumped
    assert gatehouse.token not in dumped and "GATEHOUSE_TOKEN" not in dumped


# ------------------------------------------------- 3. faithful forwarding


def test_tools_list_forwards_fields_a_typed_model_would_drop(gatehouse: Gatehouse):
    """rmcp 3.9's `Tool` has no `execution`, so a typed re-serialization would
    lose server-everything's `execution.taskSupport`; Gatehouse must pass each
    tool through as the server sent it, changing only the name."""
    raw = RawLegacySession(gatehouse.url, gatehouse.token)
    try:
        raw.initialize()
        listed, _ = raw.request("tools/list")
    finally:
        raw.close()
    via_gateway = {
        t["name"].removeprefix("everything__"): t
        for t in listed["result"]["tools"]
        if t["name"].startswith("everything__")
    }

    # The oracle: server-everything itself, over raw stdio JSON-RPC.
    direct = anyio.run(
        stdio_exchange,
        [EVERYTHING],
        [
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": LEGACY_VERSION,
                    "capabilities": {},
                    "clientInfo": {"name": "oracle", "version": "1"},
                },
            },
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        ],
    )
    direct_tools = {t["name"]: t for t in direct[2]["result"]["tools"]}

    assert "simulate-research-query" in direct_tools, sorted(direct_tools)
    assert direct_tools["simulate-research-query"]["execution"] == {"taskSupport": "required"}
    assert "simulate-research-query" in via_gateway, sorted(via_gateway)
    assert via_gateway["simulate-research-query"].get("execution") == {"taskSupport": "required"}

    common = set(direct_tools) & set(via_gateway)
    assert {"echo", "get-sum", "trigger-long-running-operation", "simulate-research-query"} <= common
    for name in sorted(common):
        assert via_gateway[name] == {**direct_tools[name], "name": f"everything__{name}"}, name


# ------------------------------------------------- 4. the Inspector CLI


def inspector_http(url: str, token: str, era: str, *method_args: str) -> subprocess.CompletedProcess:
    return inspector(
        "--cli",
        url,  # the target first, then --header
        "--transport",
        "http",
        "--header",
        f"Authorization: Bearer {token}",
        "--protocol-era",
        era,
        "--format",
        "json",
        "-q",
        *method_args,
    )


@pytest.mark.parametrize("era", MODES)
@pytest.mark.parametrize("server", [None, "everything"], ids=["all", "everything"])
def test_the_inspector_lists_and_calls_tools(gatehouse: Gatehouse, server, era):
    url = gatehouse.endpoint(server)
    prefix = "" if server else "everything__"
    listed = inspector_json(inspector_http(url, gatehouse.token, era, "--method", "tools/list"))
    names = {tool["name"] for tool in listed["result"]["tools"]}
    assert {f"{prefix}echo", f"{prefix}get-sum"} <= names
    if server is None:
        assert "demo__add_note" in names
    else:
        assert not any("__" in name for name in names)

    called = inspector_json(
        inspector_http(
            url,
            gatehouse.token,
            era,
            "--method",
            "tools/call",
            "--tool-name",
            f"{prefix}get-sum",
            "--tool-args-json",
            '{"a": 40, "b": 2}',
        )
    )
    assert called["result"]["content"][0]["text"] == sum_text(40, 2), called


def test_the_inspector_exits_3_on_a_wrong_token(gatehouse: Gatehouse):
    done = inspector_http(gatehouse.url, random_token(), "legacy", "--method", "tools/list")
    assert done.returncode == 3, (done.returncode, done.stdout, done.stderr)
    assert "wrong token" in done.stdout + done.stderr


# ------------------------------------------------- 5. concurrency


def test_concurrent_sessions_get_their_own_answers_through_one_child(gatehouse: Gatehouse):
    before = gatehouse.show("everything")
    calls = 20

    async def client_run(mode: str, offset: int, results: dict):
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            async with anyio.create_task_group() as tg:

                async def one_sum(i: int):
                    a, b = offset + i, offset * 3 + i * 7
                    result = await client.call_tool("everything__get-sum", {"a": a, "b": b})
                    results[(offset, i)] = (a, b, result)

                async def one_note(i: int):
                    result = await client.call_tool("demo__add_note", {"title": f"{offset}-{i}", "body": "x"})
                    results[("note", offset, i)] = result

                for i in range(calls):
                    tg.start_soon(one_sum, i)
                for i in range(3):
                    tg.start_soon(one_note, i)

    async def main():
        results: dict = {}
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(client_run, "legacy", 1000, results)
                tg.start_soon(client_run, "legacy", 2000, results)
                tg.start_soon(client_run, "auto", 3000, results)
        return results

    results = anyio.run(main)
    sums = {k: v for k, v in results.items() if k[0] != "note"}
    notes = [v for k, v in results.items() if k[0] == "note"]
    assert len(sums) == 3 * calls and len(notes) == 9
    for (offset, i), (a, b, result) in sums.items():
        assert not result.is_error and text_of(result) == sum_text(a, b), (offset, i, text_of(result))
    note_ids = [text_of(n) for n in notes]
    assert all(re.fullmatch(r"added note \d+", t) for t in note_ids), note_ids
    assert len(set(note_ids)) == len(note_ids), note_ids

    after = gatehouse.show("everything")
    assert (after["pid"], after["restarts"]) == (before["pid"], before["restarts"])


# ------------------------------------------------- 6. list_changed


def memory_add_args(gatehouse: Gatehouse, name: str) -> list[str]:
    memory_file = gatehouse.home / f"{name}.jsonl"
    return ["server", "add", name, "--env", f"MEMORY_FILE_PATH={memory_file}", "--", MEMORY]


@pytest.mark.parametrize("mode", MODES)
def test_adding_and_removing_a_server_notifies_tools_list_changed(gatehouse: Gatehouse, mode):
    """`gatehouse server add` / `server remove` on the running instance: legacy
    clients get `notifications/tools/list_changed` on their GET stream,
    2026-07-28 clients on a `subscriptions/listen` stream, and a tools/list
    right after a notification shows the change (a notification that comes
    before the listing is updated would leave the client stale for good)."""
    name = f"memory-{mode}"
    probe = f"{name}__read_graph"

    async def main():
        send, receive = anyio.create_memory_object_stream(100)

        async def on_message(message):
            if isinstance(message, types.ToolListChangedNotification):
                send.send_nowait(message)

        async with mcp_http(gatehouse.url, gatehouse.token, mode, message_handler=on_message) as client:
            assert probe not in tool_map(await client.list_tools())

            async def change_and_relist(action: list[str], present: bool, next_notification):
                await anyio.to_thread.run_sync(lambda: gatehouse.app(*action))
                notified = 0
                with anyio.fail_after(30):
                    while True:
                        await next_notification()
                        notified += 1
                        tools = tool_map(await client.list_tools())
                        if (probe in tools) == present:
                            return tools, notified

            if mode == "legacy":
                added, n_add = await change_and_relist(memory_add_args(gatehouse, name), True, receive.receive)
                removed, n_remove = await change_and_relist(["server", "remove", name], False, receive.receive)
            else:
                async with client.listen(tools_list_changed=True) as subscription:
                    assert subscription.honored.tools_list_changed

                    async def next_event():
                        async for event in subscription:
                            if isinstance(event, ToolsListChanged):
                                return event
                        raise AssertionError("the listen stream ended")

                    added, n_add = await change_and_relist(memory_add_args(gatehouse, name), True, next_event)
                    removed, n_remove = await change_and_relist(["server", "remove", name], False, next_event)
            return added, removed, (n_add, n_remove)

    added, removed, notified = anyio.run(main)
    assert {probe, f"{name}__create_entities"} <= set(added)
    assert hints(added[probe]) == (True, False, True, False)
    assert probe not in removed and "everything__echo" in removed
    print(f"{mode}: notifications until the listing showed the change: add {notified[0]}, remove {notified[1]}")


# ------------------------------------------------- 7. progress


PROGRESS_CALLS = 4  # the last notification of a call races its result; a few calls show it


@pytest.mark.parametrize("mode", MODES)
def test_progress_notifications_reach_the_callers_callback(gatehouse: Gatehouse, mode):
    """server-everything sends progress 1..steps, each before its result (over
    stdio the SDK receives every one); the SDK maps them back to the
    caller's own callback. Every one must arrive, in order."""

    async def main():
        calls = []
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            for _ in range(PROGRESS_CALLS):
                progress = []

                async def on_progress(value, total, message, progress=progress):
                    progress.append((value, total))

                result = await client.call_tool(
                    "everything__trigger-long-running-operation",
                    {"duration": 0.4, "steps": 4},
                    progress_callback=on_progress,
                )
                calls.append((result, progress))
        return calls

    calls = anyio.run(main)
    for result, _ in calls:
        assert not result.is_error and "Steps: 4" in text_of(result), result
    values = [[value for value, _ in progress] for _, progress in calls]
    assert all(len(v) >= 2 and v == sorted(set(v)) for v in values), values  # several, increasing
    assert all(total == 4 for _, progress in calls for _, total in progress), calls
    assert values == [[1, 2, 3, 4]] * PROGRESS_CALLS, f"progress values per call: {values}"


def modern_request(url: str, token: str, method: str, params: dict, name: str | None = None) -> list[dict]:
    """One stateless 2026-07-28 request by hand; returns every message of its stream."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN_VERSION,
        "Mcp-Method": method,
    }
    if name is not None:
        headers["Mcp-Name"] = name
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "raw-httpx", "version": "1"},
    }
    params = {**params, "_meta": {**meta, **params.get("_meta", {})}}
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": params}
    response = httpx2.post(url, headers=headers, content=json.dumps(body), timeout=httpx2.Timeout(30, read=120))
    assert response.status_code == 200, (response.status_code, response.text)
    return sse_messages(response)


def test_a_client_ends_its_session_with_delete(gatehouse: Gatehouse):
    """DELETE ends a legacy session with 200, as the SDKs expect; the
    session is then gone (404), while a new one opens as usual."""
    raw = RawLegacySession(gatehouse.url, gatehouse.token)
    raw.initialize()
    deleted = raw.http.delete(raw.url, headers=raw.headers)
    assert deleted.status_code == 200, (deleted.status_code, deleted.text)
    after = raw.post({"jsonrpc": "2.0", "id": 9, "method": "tools/list"})
    assert after.status_code == 404, (after.status_code, after.text)
    fresh = RawLegacySession(gatehouse.url, gatehouse.token)
    fresh.initialize()
    response, _ = fresh.request("tools/list")
    assert any(tool["name"] == "demo__add_note" for tool in response["result"]["tools"])


@pytest.mark.parametrize("era", ["legacy", MODERN_VERSION])
def test_progress_is_relayed_in_order_with_the_clients_own_token(gatehouse: Gatehouse, era):
    """On the wire: every progress notification the child sends arrives on
    the call's SSE stream before the result, under the client's own token."""
    params = {
        "name": "everything__trigger-long-running-operation",
        "arguments": {"duration": 0.4, "steps": 4},
        "_meta": {"progressToken": "my-own-token-7"},
    }
    seen = []
    raw = RawLegacySession(gatehouse.url, gatehouse.token) if era == "legacy" else None
    try:
        if raw:
            raw.initialize()
        for _ in range(PROGRESS_CALLS):
            if raw:
                response, before = raw.request("tools/call", params)
            else:
                messages = modern_request(gatehouse.url, gatehouse.token, "tools/call", params, name=params["name"])
                *before, response = messages
                assert response.get("id") == 7, messages
            assert "result" in response and not response["result"].get("isError"), response
            progress = [m["params"] for m in before if m.get("method") == "notifications/progress"]
            assert {p["progressToken"] for p in progress} == {"my-own-token-7"}, before
            seen.append([p["progress"] for p in progress])
    finally:
        if raw:
            raw.close()
    assert seen == [[1, 2, 3, 4]] * PROGRESS_CALLS, f"progress values per call: {seen}"


# ------------------------------------------------- 8. a server dies mid-call


def test_a_call_fails_promptly_when_its_server_dies_and_the_server_comes_back(gatehouse: Gatehouse):
    before = gatehouse.show("everything")
    pid = before["pid"]

    async def main():
        started = anyio.Event()

        async def on_progress(value, total, message):
            started.set()

        async with mcp_http(gatehouse.url, gatehouse.token, "legacy") as client:
            outcome = {}

            async def call():
                try:
                    outcome["result"] = await client.call_tool(
                        "everything__trigger-long-running-operation",
                        {"duration": 30, "steps": 30},
                        progress_callback=on_progress,
                    )
                except MCPError as error:
                    outcome["error"] = error
                outcome["at"] = time.monotonic()

            async with anyio.create_task_group() as tg:
                tg.start_soon(call)
                with anyio.fail_after(15):
                    await started.wait()  # the call is running in the child
                os.kill(pid, signal.SIGKILL)
                killed_at = time.monotonic()
                with anyio.move_on_after(20):  # far longer than allowed, so a slow answer shows as a number
                    while "at" not in outcome:
                        await anyio.sleep(0.05)
                tg.cancel_scope.cancel()
            return outcome, (outcome["at"] - killed_at if "at" in outcome else None)

    outcome, seconds = anyio.run(main)
    assert seconds is not None, "the call still had no answer 20 s after its server was killed"
    assert seconds < 10, f"the call took {seconds:.1f} s to fail after the server died"
    # Gatehouse answers with a tool result flagged isError (the model can read it),
    # not with a JSON-RPC error.
    assert "error" not in outcome, f"got an MCP error instead of an isError result: {outcome['error']!r}"
    result = outcome["result"]
    assert result.is_error, f"a call whose server died succeeded: {result}"
    assert re.search(r"`everything` stopped before `trigger-long-running-operation` finished", text_of(result)), (
        text_of(result)
    )

    def restarted():
        shown = gatehouse.show("everything")
        return shown if shown["state"] == "running" and shown["pid"] not in (None, pid) else None

    after = wait_for("everything to be restarted", restarted, 20)
    assert after["restarts"] >= before["restarts"] + 1

    async def works_again():
        async with mcp_http(gatehouse.url, gatehouse.token, "legacy") as client:
            return await client.call_tool("everything__echo", {"message": "back"})

    assert text_of(anyio.run(works_again)) == "Echo: back"


# ------------------------------------------------- 9. cancellation


def slow_events(gatehouse: Gatehouse) -> list[str]:
    """The fixture server's event log (see fixtures/slow_server.py)."""
    path = gatehouse.home / "slow-events.txt"
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("mode", MODES)
def test_cancelling_a_call_cancels_it_in_the_server(gatehouse: Gatehouse, mode):
    """Legacy: the SDK sends `notifications/cancelled`; 2026-07-28: it drops
    the request's stream. Either way Gatehouse must send the child a
    `notifications/cancelled` naming the id *it* gave that call, and the
    child's handler must stop (the server is not restarted to get there)."""
    seconds = {"legacy": 41, "auto": 42}[mode]
    slow = gatehouse.show("slow")

    def started():
        for line in slow_events(gatehouse):
            if line.startswith(f"started {seconds} "):
                return line.split()[2].removeprefix("id=")
        return None

    async def main():
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(client.call_tool, "slow__wait", {"seconds": seconds})
                    with anyio.fail_after(15):
                        while not started():
                            await anyio.sleep(0.05)
                    scope.cancel()
            assert scope.cancelled_caught
            child_id = started()
            wanted = {f"cancel-notification id={child_id}", f"cancelled {seconds}"}
            try:
                with anyio.fail_after(10):
                    while not wanted <= set(slow_events(gatehouse)):
                        await anyio.sleep(0.05)
            except TimeoutError:
                pass  # asserted below, with the events
            # The session is still usable after a cancelled call.
            after = await client.call_tool("slow__wait", {"seconds": 0})
        return child_id, after

    child_id, after = anyio.run(main)
    events = slow_events(gatehouse)
    assert f"cancel-notification id={child_id}" in events, (
        f"the child never got notifications/cancelled for its request {child_id}: {events}"
    )
    assert f"cancelled {seconds}" in events and f"finished {seconds}" not in events, events
    assert not after.is_error and text_of(after) == "waited 0 s"
    now = gatehouse.show("slow")
    assert (now["pid"], now["restarts"]) == (slow["pid"], slow["restarts"]), "the server was restarted"


# ------------------------------------------------- 10. the stdio bridge


@pytest.mark.parametrize("mode", MODES)
def test_the_sdk_uses_gatehouse_through_the_bridge(gatehouse: Gatehouse, mode):
    async def main():
        async with Client(bridge_params(gatehouse.home), mode=mode) as client:
            tools = tool_map(await client.list_tools())
            summed = await client.call_tool("everything__get-sum", {"a": 5, "b": 8})
            added = await client.call_tool("demo__add_note", {"title": "bridged", "body": "b"})
        async with Client(bridge_params(gatehouse.home, "--server", "everything"), mode=mode) as one:
            one_tools = tool_map(await one.list_tools())
            echoed = await one.call_tool("echo", {"message": "one server"})
        return tools, summed, added, one_tools, echoed

    tools, summed, added, one_tools, echoed = anyio.run(main)
    assert {"everything__echo", "demo__add_note"} <= set(tools)
    assert hints(tools["everything__echo"]) == (True, False, True, False)
    assert text_of(summed) == sum_text(5, 8)
    assert text_of(added).startswith("added note ")
    assert "echo" in one_tools and not any("__" in n for n in one_tools)
    assert text_of(echoed) == "Echo: one server"


def test_the_bridge_refuses_an_unknown_server_in_one_line(gatehouse: Gatehouse):
    done = subprocess.run(
        [APP, "bridge", "--server", "nosuch"],
        env=gatehouse.env, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0 and done.stdout == "", (done.returncode, done.stdout)
    assert "`nosuch`" in done.stderr.strip().splitlines()[-1], done.stderr


def test_the_inspector_uses_gatehouse_through_the_bridge(gatehouse: Gatehouse):
    env_args = ["-e", f"GATEHOUSE_HOME={gatehouse.home}", "-e", f"HOME={gatehouse.home / 'user-home'}"]
    listed = inspector_json(
        inspector("--cli", "--method", "tools/list", "--format", "json", "-q", *env_args, "--", APP, "bridge")
    )
    names = {tool["name"] for tool in listed["result"]["tools"]}
    assert {"everything__echo", "demo__add_note"} <= names
    called = inspector_json(
        inspector(
            "--cli", "--method", "tools/call", "--tool-name", "echo", "--tool-args-json", '{"message": "insp"}',
            "--format", "json", "-q", *env_args, "--", APP, "bridge", "--server", "everything",
        )
    )
    assert called["result"]["content"][0]["text"] == "Echo: insp"


def test_the_bridge_starts_gatehouse_when_none_runs(scratch_home: Path):
    """A fresh home, no display: the bridge starts `gatehouse serve` itself
    (first-run config: the demo server) and the client works at once: its
    first tools/list already has the demo server's tools, as a client that
    lists once at startup (and ignores list_changed) needs. The started
    Gatehouse outlives the bridge and serves the next client; then we stop it."""
    home = scratch_home / "home"
    (home / "user-home").mkdir(parents=True)
    # A free port instead of the default 8737, and a token so no keyring is needed;
    # the bridge passes its environment on to the Gatehouse it starts.
    params = bridge_params(home, GATEHOUSE_ADDR="127.0.0.1:0", GATEHOUSE_TOKEN=random_token())
    lock = home / "run" / "gatehouse.lock"

    async def session(title: str):
        async with Client(params, mode="legacy") as client:
            first_listing = sorted(tool_map(await client.list_tools()))
            added = await client.call_tool("demo__add_note", {"title": title, "body": "b"})
            listed = await client.call_tool("demo__list_notes", {})
        return first_listing, added, listed

    pid = None
    try:
        first_listing, added, _ = anyio.run(session, "first")
        pid = int(wait_for("the started Gatehouse's pid in gatehouse.lock", lambda: lock.read_text().strip(), 5))
        assert pid_alive(pid)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[1:2] == [b"serve"], cmdline
        assert text_of(added).startswith("added note "), added

        # The bridge has exited; the Gatehouse it started still serves the next client.
        _, _, listed = anyio.run(session, "second")
        assert '"first"' in text_of(listed) and '"second"' in text_of(listed), text_of(listed)
        assert int(lock.read_text().strip()) == pid

        assert "demo__add_note" in first_listing, (
            f"the first tools/list through a bridge that had just started Gatehouse was {first_listing}"
        )
    finally:
        if pid is None and lock.exists() and lock.read_text().strip():
            pid = int(lock.read_text().strip())
        if pid is not None and pid_alive(pid):
            env = base_env(home, home / "user-home")
            listing = subprocess.run(
                [APP, "server", "list", "--json"], env=env, capture_output=True, text=True, timeout=10
            )
            children = [s["pid"] for s in json.loads(listing.stdout or "[]") if s.get("pid")]
            os.kill(pid, signal.SIGTERM)
            left = wait_for_gone([pid, *children], 15)
            assert not left, f"still running after SIGTERM to the bridge-started Gatehouse: {left}"


@pytest.fixture
def keyring_gatehouse(tmp_path):
    """A Gatehouse whose token lives in the OS keyring (no $GATEHOUSE_TOKEN)."""
    # Rotating the real keyring's token would break the real Gatehouse's clients.
    require_private_keyring("rotates the keyring's gateway token")
    config = '[servers.demo]\ncommand = "gatehouse"\nargs = ["demo-server"]\n'
    instance = start_gatehouse(tmp_path / "keyring-home", config, token=None, wait_for_servers=["demo"])
    yield instance
    assert instance.stop() == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_bridge_client_survives_token_rotation_while_the_old_token_is_refused(keyring_gatehouse, mode):
    gh = keyring_gatehouse
    first = gh.token_show()
    assert first["source"] == "keyring" and first["token"] == gh.token

    def initialize_with(token: str) -> int:
        return httpx2.post(
            gh.url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
            },
            content=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {},
                               "clientInfo": {"name": "raw", "version": "1"}},
                }
            ),
            timeout=10,
        ).status_code

    # A direct legacy session opened with the old token: a session is no credential.
    direct = RawLegacySession(gh.url, first["token"])
    direct.initialize()

    async def main():
        async with Client(bridge_params(gh.home), mode=mode) as client:
            before = await client.call_tool("demo__add_note", {"title": "before", "body": "b"})
            await anyio.to_thread.run_sync(lambda: gh.app("token", "rotate"))
            rotated = await anyio.to_thread.run_sync(gh.token_show)
            after = await client.call_tool("demo__add_note", {"title": "after", "body": "b"})
            listed = await client.call_tool("demo__list_notes", {})
        return before, rotated, after, listed

    try:
        before, rotated, after, listed = anyio.run(main)
        stale = direct.post({"jsonrpc": "2.0", "id": 9, "method": "tools/list"})
    finally:
        direct.close()
    assert rotated["source"] == "keyring" and rotated["token"] != first["token"]
    assert not before.is_error and not after.is_error, (before, after)
    assert '"after"' in text_of(listed)
    assert stale.status_code == 401, (stale.status_code, stale.text)
    assert initialize_with(first["token"]) == 401
    assert initialize_with(rotated["token"]) == 200


# ------------------------------------------------- 11. pagination


# What fixtures/paged_server.py lists, in order, and how many per page; its
# cursors are "p1", "p2", ... (the page they start).
PAGED_TOOLS = [f"tool-{n}" for n in range(1, 8)]  # 3 per page
PAGED_LISTS = {
    "resources": ([f"paged://item/{n}" for n in range(1, 13)], 5),
    "templates": ([f"paged://template/{{n}}/{c}" for c in "abc"], 2),
    "prompts": ([f"prompt-{n}" for n in range(1, 6)], 2),
}
# kind: (the SDK client's list method, the result's field, an item's identity)
LIST_CALLS = {
    "resources": ("list_resources", "resources", lambda item: str(item.uri)),
    "templates": ("list_resource_templates", "resource_templates", lambda item: item.uri_template),
    "prompts": ("list_prompts", "prompts", lambda item: item.name),
}


async def list_page(client: Client, kind: str, cursor: str | None) -> tuple[list[str], str | None]:
    """One page of a list, asked for with `cursor` (the SDK never pages by
    itself; its response cache is bypassed): (identities, nextCursor)."""
    method, field, identity = LIST_CALLS[kind]
    result = await getattr(client, method)(cursor=cursor, cache_mode="bypass")
    return [identity(item) for item in getattr(result, field)], result.next_cursor


async def every_page(client: Client, kind: str) -> list[tuple[list[str], str | None]]:
    """Every page of a list, following nextCursor from the first page on."""
    pages, cursor = [], None
    while True:
        items, cursor = await list_page(client, kind, cursor)
        pages.append((items, cursor))
        if cursor is None:
            return pages
        assert len(pages) < 20, f"{kind}: still paging after 20 pages: {pages}"


def offers(client: Client, kind: str) -> bool:
    capabilities = client.server_capabilities
    return (capabilities.prompts if kind == "prompts" else capabilities.resources) is not None


@pytest.mark.parametrize("mode", MODES)
def test_tools_list_is_one_page_with_every_tool_of_a_paginating_server(gatehouse: Gatehouse, mode):
    """The supervisor follows the server's tools/list cursors at startup, so
    both endpoints answer tools/list in one page holding all 7 tools."""

    async def main():
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            every = await client.list_tools(cache_mode="bypass")
            called = await client.call_tool("paged__tool-7", {})  # from the server's last page
        async with mcp_http(gatehouse.endpoint("paged"), gatehouse.token, mode) as paged:
            one = await paged.list_tools(cache_mode="bypass")
        return every, called, one

    every, called, one = anyio.run(main)
    names = [tool.name for tool in every.tools]
    assert every.next_cursor is None, every.next_cursor
    assert [n for n in names if n.startswith("paged__")] == [f"paged__{t}" for t in PAGED_TOOLS], names
    assert {"demo__add_note", "everything__echo", "slow__wait"} <= set(names)
    assert len(names) == len(set(names)), names
    assert not called.is_error and text_of(called) == "tool 7", called
    assert one.next_cursor is None and [tool.name for tool in one.tools] == PAGED_TOOLS, one


@pytest.mark.parametrize("kind", list(PAGED_LISTS))
@pytest.mark.parametrize("mode", MODES)
def test_mcp_list_cursors_page_through_every_server_exactly_once(gatehouse: Gatehouse, mode, kind):
    """Followed page by page on /mcp, prompts/list, resources/list and
    resources/templates/list give every item of every server once, in config
    order (prompts as `server__name`), on as many pages as `paged` (the last
    server) has. The cursors are Gatehouse's own: never one of a server's,
    and asking again with one gives the same page. On /mcp/paged the server's
    own cursors pass through unchanged."""

    async def main():
        own = {}
        for server in GATEWAY_SERVERS:
            async with mcp_http(gatehouse.endpoint(server), gatehouse.token, mode) as client:
                if offers(client, kind):
                    own[server] = await every_page(client, kind)
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            pages = await every_page(client, kind)
            again = [await list_page(client, kind, cursor) for _, cursor in pages[:-1]]
        return own, pages, again

    own, pages, again = anyio.run(main)
    listed, size = PAGED_LISTS[kind]
    chunks = [listed[i : i + size] for i in range(0, len(listed), size)]
    assert "paged" in own, f"/mcp/paged does not offer {kind}"
    assert own["paged"] == [(chunk, f"p{i + 1}" if i + 1 < len(chunks) else None) for i, chunk in enumerate(chunks)], (
        f"/mcp/paged did not pass the server's own pages and cursors through: {own['paged']}"
    )
    assert all(len(server_pages) == 1 for name, server_pages in own.items() if name != "paged"), own

    def exposed(server: str, item: str) -> str:
        return f"{server}__{item}" if kind == "prompts" else item

    expected = [exposed(server, item) for server in own for items, _ in own[server] for item in items]
    got = [item for items, _ in pages for item in items]
    assert len(got) == len(set(got)), f"/mcp listed some {kind} twice: {pages}"
    assert got == expected, f"/mcp {kind}: {pages}\nthe servers' own lists: {own}"
    assert len(pages) == len(own["paged"]), pages

    ours = [cursor for _, cursor in pages[:-1]]
    theirs = {cursor for server_pages in own.values() for _, cursor in server_pages if cursor}
    assert all(isinstance(c, str) and c for c in ours) and len(set(ours)) == len(ours), ours
    assert not set(ours) & theirs, f"/mcp handed out a server's own cursor: {ours} vs {sorted(theirs)}"
    assert again == pages[1:], "asking again with the same cursor gave a different page"


@pytest.mark.parametrize("mode", MODES)
def test_a_prompt_and_a_resource_from_later_pages_work_through_mcp(gatehouse: Gatehouse, mode):
    async def main():
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as fresh:  # nothing listed yet
            cold_prompt = await fresh.get_prompt("paged__prompt-3")
            cold_read = await fresh.read_resource("paged://item/12")
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            prompts = await every_page(client, "prompts")
            resources = await every_page(client, "resources")
            prompt = await client.get_prompt("paged__prompt-5")
            read = await client.read_resource("paged://item/7")
        return cold_prompt, cold_read, prompts, resources, prompt, read

    cold_prompt, cold_read, prompts, resources, prompt, read = anyio.run(main)
    assert "paged__prompt-3" in prompts[1][0] and "paged__prompt-5" in prompts[2][0], prompts
    assert "paged://item/7" in resources[1][0] and "paged://item/12" in resources[2][0], resources
    assert [m.content.text for m in cold_prompt.messages] == ["prompt 3"], cold_prompt
    assert [m.content.text for m in prompt.messages] == ["prompt 5"], prompt
    assert [(str(c.uri), c.text) for c in cold_read.contents] == [("paged://item/12", "item 12")], cold_read
    assert [(str(c.uri), c.text) for c in read.contents] == [("paged://item/7", "item 7")], read


@pytest.mark.parametrize("mode", MODES)
def test_a_cursor_gatehouse_did_not_hand_out_is_invalid_params(gatehouse: Gatehouse, mode):
    """On /mcp a garbage cursor, or a server's own cursor, is -32602; on
    /mcp/paged the server's own -32602 for a cursor it does not know comes
    back as it is."""

    async def error_of(client: Client, kind: str, cursor: str) -> MCPError | None:
        try:
            await list_page(client, kind, cursor)
        except MCPError as error:
            return error
        return None

    async def main():
        errors = {}
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            for kind in PAGED_LISTS:
                for cursor in ("not-a-cursor", "p1"):
                    errors[("/mcp", kind, cursor)] = await error_of(client, kind, cursor)
        async with mcp_http(gatehouse.endpoint("paged"), gatehouse.token, mode) as client:
            for kind in PAGED_LISTS:
                errors[("/mcp/paged", kind, "not-a-cursor")] = await error_of(client, kind, "not-a-cursor")
        return errors

    errors = anyio.run(main)
    codes = {key: error and error.code for key, error in errors.items()}
    assert codes == {key: -32602 for key in errors}, {key: repr(error) for key, error in errors.items()}


@pytest.mark.parametrize("mode", MODES)
def test_continuing_with_a_cursor_the_server_has_since_expired_is_invalid_params(gatehouse: Gatehouse, mode):
    """A server's cursors expire when its listing changes (paged_server.py:
    when its generation file changes). A client that goes on paging with a
    cursor Gatehouse handed out before must get -32602, as from the server
    itself on /mcp/paged, so that it starts the listing over (the SDK's
    client evicts its cache on exactly that), never a short final page that
    looks like the whole list."""
    generation = gatehouse.home / "paged-generation.txt"

    async def main():
        outcomes = {}
        async with mcp_http(gatehouse.url, gatehouse.token, mode) as client:
            firsts = {kind: await list_page(client, kind, None) for kind in PAGED_LISTS}
            generation.write_text("1")
            try:
                for kind, (_, cursor) in firsts.items():
                    try:
                        outcomes[("/mcp", kind)] = await list_page(client, kind, cursor)
                    except MCPError as error:
                        outcomes[("/mcp", kind)] = error
                async with mcp_http(gatehouse.endpoint("paged"), gatehouse.token, mode) as paged:
                    for kind in PAGED_LISTS:
                        try:
                            outcomes[("/mcp/paged", kind)] = await list_page(paged, kind, "p1")
                        except MCPError as error:
                            outcomes[("/mcp/paged", kind)] = error
            finally:
                generation.unlink()
        return firsts, outcomes

    firsts, outcomes = anyio.run(main)
    assert all(cursor for _, cursor in firsts.values()), firsts
    got = {key: (outcome.code if isinstance(outcome, MCPError) else outcome) for key, outcome in outcomes.items()}
    assert got == {key: -32602 for key in outcomes}, (
        "continuing a list whose server has expired its cursors (-32602 expected); got: "
        + ", ".join(f"{where} {kind}: {result!r}" for (where, kind), result in got.items())
    )
