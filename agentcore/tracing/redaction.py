"""Secrets never reach a span: known values and key-shaped strings are replaced before any exporter sees them.

Two sources of secrets:

* **values**: registered with :func:`add_secret` — the values of this process's secret-looking
  environment variables (``*KEY*``, ``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``…), API keys handed to a
  model adapter, and every value handed to a sandbox (``SandboxConfig(env=…)``) or a tool
  (``@tool(secrets=…)``);
* **patterns**: :data:`SECRET_PATTERNS`, the shapes of common credentials (OpenAI/Anthropic ``sk-…``,
  AWS ``AKIA…``, GitHub ``ghp_…``, Slack ``xox?-…``, Google ``AIza…``, JWTs, bearer tokens, PEM private
  key blocks), whoever's they are.

:func:`redact` runs on every content attribute, status message and event of every span agentcore
records, so it is written to be cheap: the values are plain substring checks, and the (single, combined)
pattern runs only when one of its literal markers occurs in the text.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from typing import Any

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.IGNORECASE)
"""Environment variable names whose values are secrets."""

_RULES: tuple[tuple[str, str, str], ...] = (
    # (gate, label, regex). A regex runs only when its gate (a substring every match contains) occurs in
    # the text, and starts with a literal, which makes its search fast: a clean text costs one substring
    # scan per gate.
    ("k-", "api_key", r"sk-[A-Za-z0-9_-]{16,}"),  # OpenAI sk-…/sk-proj-…, Anthropic sk-ant-…
    ("k-", "api_key", r"pk-[A-Za-z0-9_-]{16,}"),
    ("k-", "api_key", r"rk-[A-Za-z0-9_-]{16,}"),
    ("IA", "aws_access_key", r"AKIA[0-9A-Z]{16}(?![0-9A-Za-z])"),
    ("IA", "aws_access_key", r"ASIA[0-9A-Z]{16}(?![0-9A-Za-z])"),
    ("gh", "github_token", r"gh(?:[pousr]_[A-Za-z0-9]{30,}|ithub_pat_[A-Za-z0-9_]{30,})"),
    ("xox", "slack_token", r"xox[abposr]-[A-Za-z0-9-]{10,}"),
    ("AIza", "google_api_key", r"AIza[0-9A-Za-z_-]{35}"),
    ("eyJ", "jwt", r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    ("earer", "bearer", r"Bearer\s+[A-Za-z0-9._~+/-]{16,}=*"),
    ("earer", "bearer", r"bearer\s+[A-Za-z0-9._~+/-]{16,}=*"),
    ("EARER", "bearer", r"BEARER\s+[A-Za-z0-9._~+/-]{16,}=*"),
    # A whole block, or (cut short by an output cap) everything after its first line that looks like key
    # material — also through JSON escaping (``\n``).
    (
        "-----BEGIN",
        "private_key",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"
        r"(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----|[A-Za-z0-9+/=\s\\]*)",
    ),
)

SECRET_PATTERNS: dict[str, str] = {}
"""Credential shapes, by label (the replacement is ``[REDACTED:label]``); one regex per label."""
for _gate, _label_name, _regex in _RULES:
    _alt = f"(?<![A-Za-z0-9])(?:{_regex})"
    SECRET_PATTERNS[_label_name] = (
        f"{SECRET_PATTERNS[_label_name]}|{_alt}" if _label_name in SECRET_PATTERNS else _alt
    )

_GATES: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _gate, _label_name, _regex in _RULES:
    _GATES.setdefault(_gate, []).append((_label_name, re.compile(_regex)))
_GATED = tuple((gate, tuple(rules)) for gate, rules in _GATES.items())
_MIN_VALUE = 4

_lock = threading.Lock()
_known: set[str] = set()
_handed: set[str] = set()
"""Values registered with :func:`add_secret` by agentcore's callers (not read from the environment)."""
_values: tuple[str, ...] = ()
"""Every registered value, longest first (so a value containing another is replaced whole)."""
_handed_values: tuple[str, ...] = ()
_env_loaded = False
_version = 0
"""Bumped whenever a value is registered (a cached redaction made before is stale)."""

_CACHE_MIN_CHARS = 256
_CACHE_MAX_CHARS = 65_536
_CACHE_ENTRIES = 64
_cache: dict[str, str] = {}
_cache_version = 0


def load_env(*, again: bool = False) -> None:
    """Register the values of this process's secret-looking environment variables (once, or ``again``)."""
    global _env_loaded
    with _lock:
        if _env_loaded and not again:
            return
        _env_loaded = True
    for name, value in list(os.environ.items()):
        if SECRET_NAME.search(name) and len(value) >= 8:
            _register(value, handed=False)


def add_secret(value: str, *, trace_only: bool = False) -> None:
    """Register a value that must never appear in a trace (values shorter than 4 characters are ignored:
    they would blank out ordinary text). Also covers the value as it appears inside JSON. Unless
    ``trace_only``, :class:`~agentcore.SecretRedactor` also hides it from the model (:func:`handed_values`)."""
    _register(value, handed=not trace_only)


def _register(value: str, *, handed: bool) -> None:
    global _values, _handed_values, _version
    if not isinstance(value, str) or len(value) < _MIN_VALUE:
        return
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    with _lock:
        if handed and not forms <= _handed:
            _handed.update(forms)
            _handed_values = tuple(sorted(_handed, key=len, reverse=True))
        if not forms <= _known:
            _known.update(forms)
            _values = tuple(sorted(_known, key=len, reverse=True))
            _version += 1


def secret_values() -> tuple[str, ...]:
    """Every registered value (and its JSON-escaped forms), longest first."""
    if not _env_loaded:
        load_env()
    return _values


def handed_values() -> tuple[str, ...]:
    """The values registered with :func:`add_secret` (handed to sandboxes, tools, model adapters),
    without those read from the environment; longest first."""
    return _handed_values


def _replacer(label: str) -> Callable[[re.Match[str]], str]:
    replacement = f"[REDACTED:{label}]"

    def replace(match: re.Match[str]) -> str:
        at = match.start()
        text = match.string
        # "task-runner-…" holds no "sk-…" key; but "\\nsk-…" (a JSON-escaped line break before it) does.
        if at and text[at - 1].isalnum() and not (at > 1 and text[at - 2] == "\\"):
            return match.group(0)
        return replacement

    return replace


_REPLACERS = {label: _replacer(label) for _, label, _ in _RULES}
_REPLACERS["private_key"] = lambda _match: "[REDACTED:private_key]"  # a block has no word boundary


_SHORTEST_MATCH = 15
"""No pattern matches fewer characters (``xoxb-`` and ten more)."""


def redact_patterns(text: str) -> str:
    """``text`` with every key-shaped string replaced by ``[REDACTED:label]``."""
    if len(text) < _SHORTEST_MATCH:
        return text
    for gate, rules in _GATED:
        if gate in text:
            for label, pattern in rules:
                text = pattern.sub(_REPLACERS[label], text)
    return text


def redact(text: str) -> str:
    """``text`` with every registered value replaced by ``[REDACTED]`` and every key-shaped string by
    ``[REDACTED:label]``."""
    for value in secret_values():
        if value in text:
            text = text.replace(value, "[REDACTED]")
    return redact_patterns(text)


def redact_cached(text: str) -> str:
    """:func:`redact`, remembering the result for long strings: a tool result is recorded on its tool
    span and again in the next chat span's messages (the same ``str`` object, whose hash Python keeps),
    so it is scanned once."""
    global _cache_version
    size = len(text)
    if size < _CACHE_MIN_CHARS or size > _CACHE_MAX_CHARS:
        return redact(text)
    if _cache_version != _version:
        _cache.clear()
        _cache_version = _version
    hit = _cache.get(text)
    if hit is None:
        hit = redact(text)
        if len(_cache) >= _CACHE_ENTRIES:
            _cache.clear()
        _cache[text] = hit
    return hit


def redact_tree(value: Any) -> tuple[Any, bool]:
    """A copy of a JSON-like value (dicts, lists, strings…) with every string redacted (other objects as
    their redacted ``str``), and whether anything was. Strings are redacted before JSON escaping, so
    escaping never hides a secret."""
    changed = [False]

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            out = redact_cached(v)
            if out != v:
                changed[0] = True
            return out
        if isinstance(v, dict):
            return {walk(k) if isinstance(k, str) else k: walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        if v is None or isinstance(v, bool | int | float):
            return v
        text = str(v)
        out = redact(text)
        if out != text:
            changed[0] = True
        return out

    return walk(value), changed[0]


def _forget_for_tests() -> None:
    """Drop every registered value and re-read the environment on next use."""
    global _values, _handed_values, _env_loaded, _version
    with _lock:
        _known.clear()
        _handed.clear()
        _values = _handed_values = ()
        _env_loaded = False
        _version += 1
