"""The MCP server, driven by the official Python MCP SDK (issue 14, run by scripts/check-mcp.sh).

Over stdio (`ytmaker mcp`, started by the SDK as an agent would start it):
  1. the tools are listed;
  2. a project is created from an article's text and followed with wait_for_project to
     COMPLETED, with progress notifications on the way; its result files exist and download;
  3. an injected provider fault (the fake cloud's Ollama-style server answers 400
     context_length) ends a project FAILED; get_project_error gives LLM_CONTEXT_TOO_LONG and a
     trace id, and the log file has that code under that trace id; once the fault is cleared,
     project_action retry completes it;
  4. a start that cannot run (Google TTS with no key) is a tool error in the REST error shape:
     PROVIDER_KEY_MISSING, solutions, a trace id, details.project_id;
  5. a malformed id is VALIDATION_ERROR.
Over streamable HTTP (`ytmaker serve --token …`, at /mcp):
  6. without the token the endpoint answers 401 in the API's error shape;
  7. with it, the same tools answer, and an error carries the trace id the request sent in
     X-Trace-Id.

Usage: client_check.py <ytmaker binary> <fake cloud binary> <article file>
"""

import asyncio
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import urllib.request

import httpx2
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

TOOLS = {
    "create_project",
    "project_action",
    "get_project",
    "wait_for_project",
    "get_project_error",
    "get_project_result",
}


def say(message):
    print(f"check-mcp: {message}", flush=True)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def structured(result):
    """The tool's structured content (the same JSON as its text content)."""
    check(result.structured_content is not None, f"no structured content: {result}")
    text = json.loads(result.content[0].text)
    check(text == result.structured_content, "text and structured content differ")
    return result.structured_content


async def call_ok(session, name, args, **kw):
    result = await session.call_tool(name, args, **kw)
    check(not result.is_error, f"{name} failed: {result.structured_content}")
    return structured(result)


async def call_error(session, name, args):
    result = await session.call_tool(name, args)
    check(result.is_error, f"{name} should have failed: {result.structured_content}")
    body = structured(result)
    error = body["error"]
    for field in ("code", "message", "is_retryable", "details", "solutions", "trace_id", "timestamp"):
        check(field in error, f"the error lacks {field}: {error}")
    return error


async def follow(session, project_id, progress):
    async def on_progress(value, total, message):
        progress.append((value, total, message))

    for _ in range(20):
        state = await call_ok(
            session,
            "wait_for_project",
            {"project_id": project_id, "timeout_seconds": 60},
            progress_callback=on_progress,
        )
        if state["settled"]:
            return state
    raise AssertionError(f"project {project_id} did not settle: {state}")


def log_lines(data):
    lines = []
    for path in sorted((pathlib.Path(data) / "logs").glob("*")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return lines


async def over_stdio(binary, fake, article, data, env):
    params = StdioServerParameters(command=binary, args=["--data-dir", data, "mcp"], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            names = {t.name for t in (await session.list_tools()).tools}
            check(TOOLS <= names, f"tools listed: {sorted(names)}")
            say(f"stdio: {len(names)} tools listed")

            created = await call_ok(
                session, "create_project", {"content": article, "name": "mcp article"}
            )
            project_id = created["project_id"]
            check(created["job"] in ("queued", "running") or created["status"] != "INITIALIZED", created)
            progress = []
            state = await follow(session, project_id, progress)
            check(state["status"] == "COMPLETED", f"not completed: {state}")
            check(state["error"] is None, state)
            check(progress, "no progress notification was received")
            values = [p[0] for p in progress]
            check(values == sorted(values), f"progress went back: {values}")
            check(all(p[1] == 100.0 for p in progress), progress)
            result = await call_ok(session, "get_project_result", {"project_id": project_id})
            for name in ("video", "thumbnail", "subtitles"):
                entry = result[name]
                check(os.path.getsize(entry["path"]) == entry["bytes"] > 0, entry)
            with urllib.request.urlopen(result["video"]["url"]) as answer:
                downloaded = len(answer.read())
            check(downloaded == result["video"]["bytes"], "the video URL serves the file")
            say(
                f"stdio: project {project_id} COMPLETED after {len(progress)} progress "
                f"notifications (last {values[-1]:.0f} %); video {downloaded} bytes downloaded"
            )

            # A provider fault injected in the fake cloud.
            fault = {
                "api": "openai_compatible",
                "endpoint": "chat.completions",
                "action": {"kind": "error", "status": 400, "reason": "context_length"},
            }
            request = urllib.request.Request(
                f"{fake}/_fake/faults",
                data=json.dumps(fault).encode(),
                headers={"content-type": "application/json"},
                method="POST",
            )
            urllib.request.urlopen(request).close()
            created = await call_ok(
                session,
                "create_project",
                {
                    "content": article,
                    "name": "mcp fault",
                    "configuration": {
                        "providers": {"script": "openai_compatible"},
                        "llm": {"base_url": f"{fake}/ollama/v1", "model": "qwen2.5:7b"},
                    },
                },
            )
            failed_id = created["project_id"]
            state = await follow(session, failed_id, [])
            check(state["status"] == "FAILED", f"not failed: {state}")
            info = (await call_ok(session, "get_project_error", {"project_id": failed_id}))[
                "error_info"
            ]
            check(info["error_code"] == "LLM_CONTEXT_TOO_LONG", info)
            check(info["solutions"], info)
            trace = info["trace_id"]
            check(len(trace) >= 16, info)
            check(state["error"]["trace_id"] == trace, "get_project and get_project_error agree")
            logged = [
                l for l in log_lines(data)
                if l.get("trace_id") == trace and l.get("error_code") == "LLM_CONTEXT_TOO_LONG"
            ]
            check(logged, f"no log line has LLM_CONTEXT_TOO_LONG under trace {trace}")
            say(f"stdio: injected fault read back as LLM_CONTEXT_TOO_LONG, trace {trace} "
                f"({len(logged)} log lines under it)")

            # The cause fixed (the fault cleared), project_action retry continues it.
            clear = urllib.request.Request(f"{fake}/_fake/faults", method="DELETE")
            urllib.request.urlopen(clear).close()
            await call_ok(session, "project_action", {"project_id": failed_id, "action": "retry"})
            state = await follow(session, failed_id, [])
            check(state["status"] == "COMPLETED", f"not completed after retry: {state}")
            info = (await call_ok(session, "get_project_error", {"project_id": failed_id}))[
                "error_info"
            ]
            check(info is None, f"the old error is still there: {info}")
            say("stdio: after the fault cleared, project_action retry completed the project")

            # A start refused before anything runs.
            error = await call_error(
                session,
                "create_project",
                {"content": article, "configuration": {"providers": {"narration": "google_tts"}}},
            )
            check(error["code"] == "PROVIDER_KEY_MISSING", error)
            check(error["solutions"] and error["trace_id"], error)
            check("project_id" in error["details"], error)
            say(f"stdio: refused start is PROVIDER_KEY_MISSING, trace {error['trace_id']}")

            error = await call_error(session, "get_project", {"project_id": "not-a-uuid"})
            check(error["code"] == "VALIDATION_ERROR", error)
            return project_id


async def over_http(binary, data, env, project_id):
    token = "mcp-check-token-" + os.urandom(6).hex()
    server = subprocess.Popen(
        [binary, "--data-dir", data, "serve", "--port", "0", "--workers", "0", "--token", token],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        line = server.stdout.readline().strip()
        check(line.startswith("listening on http://"), f"serve printed {line!r}")
        url = line.removeprefix("listening on ") + "/mcp"

        async with httpx2.AsyncClient() as bare:
            answer = await bare.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"accept": "application/json, text/event-stream"},
            )
        check(answer.status_code == 401, f"no token: HTTP {answer.status_code}")
        check(answer.json()["error"]["code"] == "UNAUTHORIZED", answer.text)
        say("http: /mcp without the token is 401 UNAUTHORIZED")

        trace = "mcp-http-" + os.urandom(8).hex()
        headers = {"authorization": f"Bearer {token}", "x-trace-id": trace}
        async with httpx2.AsyncClient(headers=headers, timeout=30) as client:
            async with streamable_http_client(url, http_client=client) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    names = {t.name for t in (await session.list_tools()).tools}
                    check(TOOLS <= names, f"tools listed: {sorted(names)}")
                    state = await call_ok(session, "get_project", {"project_id": project_id})
                    check(state["status"] == "COMPLETED", state)
                    error = await call_error(
                        session,
                        "get_project_result",
                        {"project_id": "00000000-0000-4000-8000-000000000000"},
                    )
                    check(error["code"] == "PROJECT_NOT_FOUND", error)
                    check(error["trace_id"] == trace, f"trace {error['trace_id']} != {trace}")
        say(f"http: tools answer at /mcp; an error carries the request's trace id {trace}")
    finally:
        server.terminate()
        server.wait(timeout=30)


async def main():
    binary, fake_binary, article_path = sys.argv[1:4]
    article = pathlib.Path(article_path).read_text(encoding="utf-8")
    fake_process = subprocess.Popen([fake_binary, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        fake = fake_process.stdout.readline().strip()
        check(fake.startswith("http://"), f"fake cloud printed {fake!r}")
        with tempfile.TemporaryDirectory(prefix="ytmaker-mcp-") as data:
            pathlib.Path(data, "config.toml").write_text(
                '[render]\nx264_preset = "ultrafast"\n', encoding="utf-8"
            )
            env = {
                "PATH": os.environ["PATH"],
                "HOME": os.environ.get("HOME", data),
                "YTMAKER_CLOUD_BASE_URL": fake,
                "YTMAKER_RETRY_DELAY_SCALE": "0.001",
                "YTMAKER_LANG": "en",
            }
            project_id = await over_stdio(binary, fake, article, data, env)
            await over_http(binary, data, env, project_id)
    finally:
        fake_process.terminate()
        fake_process.wait(timeout=30)
    say("all checks passed")


if __name__ == "__main__":
    asyncio.run(main())
