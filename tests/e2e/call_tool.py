"""One MCP tool call through Gatehouse's endpoint with the Python SDK, for
the WebDriver tests: `call_tool.py URL TOKEN TOOL ARGS_JSON` prints
`{"isError": bool, "text": str}` when the call returns (which, for a call
that asks, is when someone answers in the approval dialog)."""

import json
import sys

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, token: str, tool: str, arguments: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            result = await client.call_tool(tool, json.loads(arguments))
            text = "\n".join(getattr(block, "text", "") for block in result.content)
            print(json.dumps({"isError": bool(result.is_error), "text": text}), flush=True)


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:5])
