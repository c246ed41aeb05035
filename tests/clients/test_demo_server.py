"""`gatehouse demo-server` as the official Python MCP SDK sees it, in both
protocol eras: the four tools, their annotations, and a round trip."""

import os
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]
APP = os.environ.get("GATEHOUSE_APP", str(ROOT / "target/debug/gatehouse"))


async def list_and_call(mode):
    server = StdioServerParameters(command=APP, args=["demo-server"])
    async with Client(server, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        added = await client.call_tool("add_note", {"title": "from python", "body": "hello"})
        listed = await client.call_tool("list_notes", {})
        return tools, added, listed


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_the_demo_server_lists_its_four_tools_with_annotations(mode):
    tools, added, listed = anyio.run(list_and_call, mode)
    assert sorted(tools) == ["add_note", "delete_note", "list_notes", "read_note"]
    hints = {
        name: (tool.annotations.read_only_hint, tool.annotations.destructive_hint)
        for name, tool in tools.items()
    }
    assert hints == {
        "list_notes": (True, None),
        "read_note": (True, None),
        "add_note": (False, False),
        "delete_note": (False, True),
    }
    assert tools["read_note"].input_schema["required"] == ["id"]
    assert not added.is_error and added.content[0].text == "added note 2"
    assert '"title": "from python"' in listed.content[0].text
