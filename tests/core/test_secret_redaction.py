"""Secrets never reach an exported span (issue 12, item 9).

Key-shaped strings (OpenAI/Anthropic keys, AWS access keys, GitHub and Slack tokens, JWTs, PEM private
keys) in tool arguments, tool results, chat messages, command lines, error messages and events, and every
value handed to a sandbox (``SandboxConfig(env=…)``) or a tool (``@tool(secrets=…)``), are redacted
before any exporter sees the span: the in-memory exporter, the local JSONL store and the OTLP encoding.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from agentcore import Agent, Runner, SecretRedactor, tool, tracing
from agentcore.messages import ToolResult
from agentcore.testing import ScriptedModel, tool_call
from agentcore.tracing import redaction
from agentcore.tracing.store import JsonlSpanExporter
from tests.spans import Spans

# Fake credentials of every shape the issue lists (none is real; each tail is unique so a partial leak
# is caught too).
OPENAI = "sk-proj-Q7rT2vX9kL4mN8pB3cD6fG1hJ5"
ANTHROPIC = "sk-ant-api03-Zx8Cv7Bn6Mq5Wr4Et3Yu2Io1Pa0Sd9Fg8Hj7Kl6"
AWS = "AKIAIOSFODNN7QXZ2W4E"
GITHUB = "ghp_Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6"
SLACK_BOT = "xoxb-2718281828-3141592653-Kq9Lw8Ej7Rh6"
SLACK_USER = "xoxp-1618033988-7499-Zu5Xi4Co3Vb2"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTkxODI3MyIsImFkbWluIjp0cnVlfQ."
    "Hq3Wk9Zp2Lm8Xv5Rt7Ny4Bc6Df1Gs0Je"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpQIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi8vLpQ7Kx2\n"
    "Wq9Rg4Ls7Vb1Nc5Ht8Ym3Jd6Fk0Px2Za4Ue7Io9Ty1Gr5Ew3\n"
    "-----END RSA PRIVATE KEY-----"
)
KEYS = {
    "openai": OPENAI,
    "anthropic": ANTHROPIC,
    "aws": AWS,
    "github": GITHUB,
    "slack_bot": SLACK_BOT,
    "slack_user": SLACK_USER,
    "jwt": JWT,
    "pem": PEM,
}


def fragments(secret: str) -> list[str]:
    """Pieces of a secret that must not appear either: the whole, and each line's distinctive tail."""
    out = [secret]
    for line in secret.splitlines():
        if "-----" not in line and len(line) >= 16:
            out.append(line[-16:])
    if "\n" not in secret:
        out.append(secret[-12:])
    return out


def strings_of(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, Sequence):
        for v in value:
            yield from strings_of(v)


def exported_text(spans: Sequence[ReadableSpan]) -> list[str]:
    """Every string an exporter receives: attributes, event names and attributes, status messages."""
    out: list[str] = []
    for s in spans:
        out.append(s.name)
        for v in (s.attributes or {}).values():
            out.extend(strings_of(v))
        for e in s.events:
            out.append(e.name)
            for v in (e.attributes or {}).values():
                out.extend(strings_of(v))
        if s.status.description:
            out.append(s.status.description)
    return out


def assert_absent(texts: Sequence[str], secrets: dict[str, str]) -> None:
    blob = "\n".join(texts)
    escaped = blob.replace("\\n", "\n")  # JSON-escaped PEM lines
    leaked = [
        name for name, secret in secrets.items() for f in fragments(secret) if f in blob or f in escaped
    ]
    assert not leaked, f"leaked into spans: {sorted(set(leaked))}"


ALL = "\n".join(f"{name}={secret}" for name, secret in KEYS.items())


@tool
def fetch(url: str, token: str, headers: dict[str, str]) -> str:
    """Fetch a URL (returns every credential it was given, as a careless tool would)."""
    return f"fetched {url} with {token}\n{json.dumps(headers)}\n{ALL}"


@tool
def explode(reason: str) -> str:
    """Fail with the reason in the error message."""
    raise RuntimeError(f"upstream refused {reason}")


def _leaky_agent() -> tuple[Agent[Any], ScriptedModel]:
    args = {
        "url": f"https://api.example.com/v1?key={OPENAI}&aws={AWS}",
        "token": ANTHROPIC,
        "headers": {"Authorization": f"Bearer {JWT}", "X-GitHub": GITHUB, "X-Slack": SLACK_BOT},
    }
    model = ScriptedModel(
        [
            tool_call("fetch", args, text=f"calling with {SLACK_USER}"),
            tool_call("explode", {"reason": f"key {ANTHROPIC} and\n{PEM}"}),
            f"done; the keys were:\n{ALL}",
        ]
    )
    return Agent(name="leaky", model=model, tools=[fetch, explode], instructions=f"use {GITHUB}"), model


@pytest.fixture(autouse=True)
def _capture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    # Values these tests register are forgotten afterwards (the registry is process-wide).
    redaction.secret_values()
    for name in ("_known", "_handed"):
        monkeypatch.setattr(redaction, name, set(getattr(redaction, name)))
    for name in ("_values", "_handed_values"):
        monkeypatch.setattr(redaction, name, getattr(redaction, name))


async def test_item9_key_shaped_strings_never_reach_the_in_memory_exporter(spans: Spans) -> None:
    agent, _ = _leaky_agent()
    await Runner.run(agent, f"here are my keys, go:\n{ALL}")
    texts = exported_text(spans.all)
    assert_absent(texts, KEYS)
    blob = "\n".join(texts)
    # Content is still there, with the secrets replaced by a label saying what they were.
    for label in ("api_key", "aws_access_key", "github_token", "slack_token", "jwt", "private_key"):
        assert f"[REDACTED:{label}]" in blob, label
    tool_span = spans.one("execute_tool fetch")
    assert "https://api.example.com/v1?key=[REDACTED:api_key]" in str(
        tool_span.attributes["gen_ai.tool.call.arguments"]
    )
    failed = spans.one("execute_tool explode")
    assert failed.status.description is None or ANTHROPIC not in failed.status.description


class _Collect(SpanExporter):
    def __init__(self, encode: Any) -> None:
        self.encode = encode
        self.payloads: list[bytes] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.payloads.append(self.encode(spans))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


@pytest.fixture
def store_and_otlp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Path, _Collect]]:
    """A provider with the local JSONL store and an exporter that encodes spans exactly as OTLP sends
    them (protobuf bytes)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    otlp = _Collect(lambda spans: encode_spans(spans).SerializeToString())
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(tmp_path)))
    provider.add_span_processor(SimpleSpanProcessor(otlp))
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing, "_tracer", None)
    monkeypatch.setattr(tracing, "_capture", None)
    yield tmp_path, otlp
    provider.shutdown()


async def test_item9_key_shaped_strings_never_reach_the_local_store_or_otlp(
    store_and_otlp: tuple[Path, _Collect],
) -> None:
    directory, otlp = store_and_otlp
    agent, _ = _leaky_agent()
    await Runner.run(agent, f"here are my keys, go:\n{ALL}")
    on_disk = "\n".join(p.read_text() for p in directory.glob("*.jsonl"))
    assert '"gen_ai.tool.call.result"' in on_disk  # content was recorded …
    assert_absent([on_disk, json.loads(json.dumps(on_disk))], KEYS)  # … without a secret
    assert otlp.payloads
    assert_absent([p.decode("utf-8", "replace") for p in otlp.payloads], KEYS)


async def test_item9_values_handed_to_a_tool_are_secrets(spans: Spans) -> None:
    password = "correct-horse-battery-staple-41"  # no known shape: only registration can catch it

    @tool(secrets=[password])
    def login(user: str) -> str:
        """Log in."""
        return f"logged in {user} with {password}"

    model = ScriptedModel([tool_call("login", {"user": "ada"}), "ok"])
    redactor = SecretRedactor(env=False)
    agent = Agent(name="a", model=model, tools=[login], guardrails=[redactor])
    await Runner.run(agent, "log in")
    assert_absent(exported_text(spans.all), {"password": password})
    seen = next(i for i in model.requests[1].items if isinstance(i, ToolResult)).output
    assert password not in seen and "[REDACTED]" in seen


def test_item9_registration_and_patterns_cover_json_escaping() -> None:
    odd = 'pa"ss\\word-ü-771'
    tracing.add_secret(odd)
    dumped = tracing.content({"x": f"value {odd} end", "pem": PEM})
    assert "771" not in dumped and "MIIEpQIBAAKCAQEA" not in dumped
    assert "task-runner-configuration-file" in tracing.redact("task-runner-configuration-file")  # no key
    assert OPENAI[-12:] not in tracing.content({"log": f"line\n{OPENAI}"})  # "\\nsk-…" once JSON-escaped
    # A PEM block cut short by an output cap is still removed.
    cut = PEM[: PEM.index("-----END")]
    assert "Wq9Rg4Ls7Vb1Nc5Ht8Ym3Jd6" not in tracing.redact(f"log:\n{cut}")
    # A secret that straddles the content cap is redacted, not half-shown.
    long = "x" * (tracing.MAX_CONTENT_CHARS - 10) + OPENAI
    assert OPENAI[:14] not in tracing.content(long)


def test_item9_sandbox_env_values_are_registered() -> None:
    from agentcore.sandboxes.base import SandboxConfig

    SandboxConfig(
        env={
            "DEPLOY_TOKEN": "dpl_9f8e7d6c5b4a",
            "PIN_AUTH": "4821",
            "LANG": "C.UTF-8",
            "WORKDIR_HINT": "/workspace/src",
            "MODE": "1",
            "DATABASE_URL": "postgres://app:s3cr3t-pw@db/app",
        }
    )
    handed, traced = redaction.handed_values(), redaction.secret_values()
    # Secret-named values: out of traces and (SecretRedactor) out of what the model sees.
    assert "dpl_9f8e7d6c5b4a" in handed and "4821" in handed
    # Any other value of 8+ characters: out of traces; the model may need it (a URL, a mode…).
    assert "postgres://app:s3cr3t-pw@db/app" in traced and "postgres://app:s3cr3t-pw@db/app" not in handed
    for plain in ("C.UTF-8", "/workspace/src", "1"):
        assert plain not in traced, plain


# --------------------------------------------------------------------------- on a real sandbox


@pytest.fixture
async def sandbox_with_credential() -> AsyncIterator[Any]:
    from agentcore.sandboxes.base import SandboxConfig
    from agentcore.sandboxes.local.sandbox import LocalSandbox, bwrap_path

    if bwrap_path() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("bubblewrap is required in CI")
        pytest.skip("bubblewrap is not installed")
    sb = LocalSandbox(SandboxConfig(env={"DEPLOY_TOKEN": "dpl_live_5e4d3c2b1a09f8"}))
    await sb.start()
    yield sb
    await sb.close()


async def test_item9_sandbox_credential_never_reaches_result_chat_or_command_spans(
    sandbox_with_credential: Any, spans: Spans
) -> None:
    credential = "dpl_live_5e4d3c2b1a09f8"
    model = ScriptedModel(
        [
            tool_call("shell", {"command": "echo token=$DEPLOY_TOKEN"}),
            tool_call("shell", {"command": f"echo {credential} {GITHUB} | wc -c"}),
            tool_call("shell", {"command": f"printf '%s' '{JWT}' && echo {AWS}"}),
            tool_call("shell", {"command": f"echo {OPENAI} {ANTHROPIC} {SLACK_BOT} {SLACK_USER}"}),
            tool_call("shell", {"command": f"cat > key.pem <<'EOF'\n{PEM}\nEOF\ncat key.pem"}),
            "done",
        ]
    )
    agent = Agent(name="ops", model=model, sandbox=sandbox_with_credential, guardrails=[SecretRedactor()])
    result = await Runner.run(agent, "deploy")
    outputs = [i.output for i in result.new_items if isinstance(i, ToolResult)]
    assert "token=[REDACTED]" in outputs[0]  # the command ran; the model saw no credential
    texts = exported_text(spans.all)
    assert any("process.command_line" in (s.attributes or {}) for s in spans.all)
    assert_absent(texts, {"credential": credential, **KEYS})
    commands = [
        s.attributes["process.command_line"]
        for s in spans.all
        if "process.command_line" in (s.attributes or {})
    ]
    assert len(commands) == 5 and "[REDACTED:private_key]" in str(commands[-1])


async def test_item9_values_handed_to_one_exec_are_secrets(sandbox_with_credential: Any) -> None:
    value = "exec-only-7731c2d9"
    result = await sandbox_with_credential.exec(["sh", "-c", "echo $ONE_OFF"], env={"ONE_OFF": value})
    assert value in result.stdout.decode()  # the sandbox got it …
    assert value in redaction.secret_values()  # … and traces never will
    assert value not in tracing.content({"output": f"printed {value}"})
