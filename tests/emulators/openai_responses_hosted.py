"""Responses emulator: hosted tool entries, hosted MCP, hosted containers and the containers API.

Shapes follow the ``openai`` SDK types (``tool_param.Mcp``, ``ContainerAutoParam``,
``ContainerReferenceParam``, ``WebSearchToolParam``, ``CodeInterpreter``; the ``mcp_*`` items of
``response_input_item_param``), ../shared/research/WIRE.md §1.3/§1.6 and the hosted-container recording
``openai-shell-container-multiturn.1.json`` (``shell`` with ``environment.type = container_reference``).

* Tool entries: ``mcp`` (``server_label`` letters/digits/``_``/``-``; one of ``server_url`` /
  ``connector_id``; ``require_approval`` ``always`` | ``never`` | ``{always|never: {tool_names}}``;
  ``allowed_tools`` a list of names or a filter; string ``headers``; unique labels),
  ``shell`` environments (``container_auto`` options; a ``container_reference`` must name a container
  this server has), ``web_search`` options, ``code_interpreter`` containers; anything else is a 400.
* Hosted MCP: the first response of a conversation that declares a server lists its tools
  (``mcp_list_tools``, from :attr:`HostedState.mcp_tools`); a scripted ``mcp_approval_request`` is issued
  with an ``mcpr_`` id; an input ``mcp_approval_response`` must answer a request of the conversation, and
  an approved one makes the next output start with the ``mcp_call`` (its output from
  :attr:`HostedState.mcp_outputs`).
* Hosted containers: ``POST/GET/DELETE /v1/containers[/{id}]`` and ``/v1/containers/{id}/files``
  (multipart upload, list, retrieve, delete, ``/content``); files live under ``/mnt/data``. A scripted
  ``shell_call`` in a request whose ``shell`` tool names a container is run *by the server*: each
  command runs with bash in that container's directory (mounted at ``/mnt/data`` with bubblewrap where
  available) and a ``shell_call_output`` follows the call, as the real service does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.emulators.base import HTTPReply, RecordedRequest, multipart_fields
from tests.emulators.openai_responses_rules import APIFailure, error_body, missing_parameter

MOUNT = "/mnt/data"
_LABEL = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MEMORY = ("1g", "4g", "16g", "64g")

HOSTED_ITEM_KEYS: dict[str, frozenset[str]] = {
    "mcp_list_tools": frozenset({"type", "id", "server_label", "tools", "error"}),
    "mcp_approval_request": frozenset({"type", "id", "server_label", "name", "arguments"}),
    "mcp_approval_response": frozenset({"type", "id", "approval_request_id", "approve", "reason"}),
    "mcp_call": frozenset(
        {
            "type",
            "id",
            "server_label",
            "name",
            "arguments",
            "output",
            "error",
            "status",
            "approval_request_id",
        }
    ),
    "image_generation_call": frozenset({"type", "id", "status", "result"}),
}


def _bad(message: str, param: str, code: str | None = "invalid_value") -> APIFailure:
    return APIFailure(message, param=param, code=code)


def check_mcp_tool(tool: dict[str, Any], i: int, labels: set[str]) -> None:
    """A ``{"type": "mcp"}`` entry, as the service checks it."""
    where = f"tools[{i}]"
    label = tool.get("server_label")
    if not isinstance(label, str) or not _LABEL.match(label):
        raise _bad(f"Invalid '{where}.server_label': string does not match pattern.", f"{where}.server_label")
    if label in labels:
        raise _bad(f"Duplicate MCP server_label: '{label}'.", "tools", None)
    labels.add(label)
    sources = [k for k in ("server_url", "connector_id", "tunnel_id") if tool.get(k)]
    if len(sources) != 1:
        raise _bad(
            f"Invalid '{where}': exactly one of 'server_url', 'connector_id' or 'tunnel_id' must be provided.",
            where,
            None,
        )
    url = tool.get("server_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise _bad(f"Invalid URL in '{where}.server_url'.", f"{where}.server_url")
    approval = tool.get("require_approval")
    if approval is not None and approval not in ("always", "never"):
        if not isinstance(approval, dict) or not approval or set(approval) - {"always", "never"}:
            raise _bad(f"Invalid value for '{where}.require_approval'.", f"{where}.require_approval")
        for key, flt in approval.items():
            if not isinstance(flt, dict) or set(flt) - {"tool_names", "read_only"}:
                raise _bad(
                    f"Invalid value for '{where}.require_approval.{key}'.", f"{where}.require_approval.{key}"
                )
    allowed = tool.get("allowed_tools")
    if allowed is not None:
        ok = isinstance(allowed, list) and all(isinstance(n, str) for n in allowed)
        ok = ok or (isinstance(allowed, dict) and not set(allowed) - {"tool_names", "read_only"})
        if not ok:
            raise _bad(f"Invalid value for '{where}.allowed_tools'.", f"{where}.allowed_tools")
    headers = tool.get("headers")
    if headers is not None and (
        not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())
    ):
        raise _bad(f"Invalid type for '{where}.headers': expected an object of strings.", f"{where}.headers")
    for key in ("authorization", "server_description"):
        if key in tool and not isinstance(tool[key], str):
            raise _bad(
                f"Invalid type for '{where}.{key}': expected a string.", f"{where}.{key}", "invalid_type"
            )


def check_container_env(env: dict[str, Any], i: int, containers: dict[str, Container] | None = None) -> None:
    """``containers``: the server's containers (``None``: the shape only)."""
    where = f"tools[{i}].environment"
    etype = env.get("type")
    allowed = {
        "local": {"type", "skills"},
        "container_auto": {"type", "file_ids", "memory_limit", "network_policy", "skills"},
        "container_reference": {"type", "container_id"},
    }[etype]
    for key in env:
        if key not in allowed:
            raise _bad(f"Unknown parameter: '{where}.{key}'.", f"{where}.{key}", "unknown_parameter")
    if etype == "container_auto":
        if env.get("memory_limit") not in (None, *MEMORY):
            raise _bad(f"Invalid value: '{env.get('memory_limit')}'.", f"{where}.memory_limit")
        ids = env.get("file_ids")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(x, str) for x in ids)):
            raise _bad(f"Invalid type for '{where}.file_ids'.", f"{where}.file_ids", "invalid_type")
    if etype == "container_reference" and containers is not None:
        cid = env.get("container_id")
        box = containers.get(cid) if isinstance(cid, str) else None
        if box is None or box.deleted:
            raise APIFailure(
                f"Container with id '{cid}' not found.", param=f"{where}.container_id", status=404
            )


def check_web_search(tool: dict[str, Any], i: int) -> None:
    where = f"tools[{i}]"
    size = tool.get("search_context_size")
    if size is not None and size not in ("low", "medium", "high"):
        raise _bad(f"Invalid value: '{size}'.", f"{where}.search_context_size")
    filters = tool.get("filters")
    if isinstance(filters, dict):
        domains = filters.get("allowed_domains")
        if domains is not None and not (
            isinstance(domains, list) and all(isinstance(d, str) for d in domains)
        ):
            raise _bad(
                f"Invalid type for '{where}.filters.allowed_domains'.", f"{where}.filters.allowed_domains"
            )
    loc = tool.get("user_location")
    if isinstance(loc, dict) and set(loc) - {"type", "city", "country", "region", "timezone"}:
        raise _bad(f"Invalid value for '{where}.user_location'.", f"{where}.user_location")
    if "external_web_access" in tool and not isinstance(tool["external_web_access"], bool):
        raise _bad(
            f"Invalid type for '{where}.external_web_access'.", f"{where}.external_web_access", "invalid_type"
        )


def check_code_interpreter(tool: dict[str, Any], i: int) -> None:
    box = tool.get("container")
    if isinstance(box, dict):
        where = f"tools[{i}].container"
        for key in box:
            if key not in ("type", "file_ids", "memory_limit", "network_policy"):
                raise _bad(f"Unknown parameter: '{where}.{key}'.", f"{where}.{key}", "unknown_parameter")
        if box.get("memory_limit") not in (None, *MEMORY):
            raise _bad(f"Invalid value: '{box.get('memory_limit')}'.", f"{where}.memory_limit")


# --------------------------------------------------------------------------- containers


@dataclass
class Container:
    id: str
    name: str
    root: Path
    created_at: int = field(default_factory=lambda: int(time.time()))
    memory_limit: str = "1g"
    expires_after: dict[str, Any] | None = None
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """file id -> container.file object."""
    deleted: bool = False

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "container",
            "created_at": self.created_at,
            "status": "deleted" if self.deleted else "running",
            "expires_after": self.expires_after or {"anchor": "last_active_at", "minutes": 20},
            "last_active_at": int(time.time()),
            "memory_limit": self.memory_limit,
            "name": self.name,
        }

    def scan(self, new_id: Any) -> None:
        """Files the commands wrote under /mnt/data become container files (``source: assistant``)."""
        known = {f["path"] for f in self.files.values()}
        for path in sorted(self.root.rglob("*")):
            rel = f"{MOUNT}/{path.relative_to(self.root).as_posix()}"
            if path.is_file() and rel not in known:
                fid = new_id("cfile")
                self.files[fid] = _file_view(fid, self, rel, path.stat().st_size, "assistant")

    def run(self, commands: list[str], timeout_ms: int | None) -> list[dict[str, Any]]:
        """The commands, one after the other, in this container (cwd /mnt/data)."""
        out = []
        bwrap = shutil.which("bwrap")
        for cmd in commands:
            if bwrap:
                argv = [bwrap, "--ro-bind", "/", "/", "--tmpfs", "/mnt", "--bind", str(self.root), MOUNT,
                        "--dev", "/dev", "--proc", "/proc", "--chdir", MOUNT, "--unshare-all",
                        "--die-with-parent", "bash", "-c", cmd]  # fmt: skip
                cwd = None
            else:
                argv, cwd = ["bash", "-c", cmd.replace(MOUNT, str(self.root))], str(self.root)
            try:
                done = subprocess.run(
                    argv, cwd=cwd, capture_output=True, timeout=(timeout_ms or 30_000) / 1000, check=False
                )
            except subprocess.TimeoutExpired as exc:
                out.append(
                    {"stdout": _text(exc.stdout), "stderr": _text(exc.stderr), "outcome": {"type": "timeout"}}
                )
                continue
            outcome = {"type": "exit", "exit_code": done.returncode}
            out.append({"stdout": _text(done.stdout), "stderr": _text(done.stderr), "outcome": outcome})
        return out


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _file_view(fid: str, box: Container, path: str, size: int, source: str) -> dict[str, Any]:
    return {
        "id": fid,
        "object": "container.file",
        "created_at": int(time.time()),
        "bytes": size,
        "container_id": box.id,
        "path": path,
        "source": source,
    }


@dataclass
class HostedState:
    """What the emulator keeps for hosted MCP and hosted containers."""

    containers: dict[str, Container] = field(default_factory=dict)
    mcp_tools: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """server_label -> the tools ``mcp_list_tools`` reports (``{"name", "input_schema", ...}``)."""
    mcp_outputs: dict[str, str] = field(default_factory=dict)
    """MCP tool name -> the output of its ``mcp_call`` once approved (default: ``"ok"``)."""
    approval_responses: list[dict[str, Any]] = field(default_factory=list)
    """Every ``mcp_approval_response`` received, in order."""
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="emu-containers-")))

    def new_container(self, new_id: Any, name: str = "auto", memory_limit: str | None = None) -> Container:
        cid = new_id("cntr")
        root = self.workdir / cid
        root.mkdir()
        box = Container(cid, name, root, memory_limit=memory_limit or "1g")
        self.containers[cid] = box
        return box


class ContainersAPI:
    """``/v1/containers`` routes (mixed into the emulator)."""

    hosted: HostedState

    def _id(self, prefix: str) -> str:  # provided by the emulator
        raise NotImplementedError

    def check_hosted(self, body: dict[str, Any]) -> None:
        """The request checks that need the server's state (called with the emulator's lock held)."""
        labels: set[str] = set()
        for i, tool in enumerate(body.get("tools") or []):
            if tool.get("type") == "mcp":
                check_mcp_tool(tool, i, labels)
            env = tool.get("environment") if tool.get("type") == "shell" else None
            if isinstance(env, dict):
                check_container_env(env, i, self.hosted.containers)
        self.hosted.approval_responses.extend(
            dict(it)
            for it in body.get("input") or []
            if isinstance(it, dict) and it.get("type") == "mcp_approval_response"
        )

    def containers_route(self, request: RecordedRequest, path: str) -> HTTPReply | None:
        m = re.fullmatch(r"/v1/containers(?:/([^/]+))?(?:/files(?:/([^/]+))?(/content)?)?", path)
        if m is None:
            return None
        cid, fid, content = m.group(1), m.group(2), m.group(3)
        files = "/files" in path
        method = request.method
        if cid is None:
            if method == "POST":
                return self._create_container(request.body)
            if method == "GET":
                data = [b.view() for b in self.hosted.containers.values() if not b.deleted]
                return HTTPReply(200, _page(data))
            return None
        box = self.hosted.containers.get(cid)
        if box is None or box.deleted:
            return HTTPReply(
                404, error_body(f"Container with id '{cid}' not found.", "invalid_request_error")
            )
        if not files:
            if method == "GET":
                return HTTPReply(200, box.view())
            if method == "DELETE":
                box.deleted = True
                shutil.rmtree(box.root, ignore_errors=True)
                return HTTPReply(200, {"id": cid, "object": "container.deleted", "deleted": True})
            return None
        box.scan(self._id)
        if fid is None:
            if method == "POST":
                return self._upload(request, box)
            if method == "GET":
                return HTTPReply(200, _page(list(box.files.values())))
            return None
        entry = box.files.get(fid)
        if entry is None:
            return HTTPReply(404, error_body(f"File with id '{fid}' not found.", "invalid_request_error"))
        local = box.root / entry["path"][len(MOUNT) + 1 :]
        if content and method == "GET":
            return HTTPReply(200, raw=local.read_bytes())
        if method == "GET":
            return HTTPReply(200, entry)
        if method == "DELETE":
            del box.files[fid]
            local.unlink(missing_ok=True)
            return HTTPReply(200, {"id": fid, "object": "container.file.deleted", "deleted": True})
        return None

    def _create_container(self, body: Any) -> HTTPReply:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return HTTPReply(
                400, error_body("Missing required parameter: 'name'.", "invalid_request_error", "name")
            )
        for key in body:
            if key not in ("name", "expires_after", "file_ids", "memory_limit", "network_policy", "skills"):
                return HTTPReply(
                    400,
                    error_body(
                        f"Unknown parameter: '{key}'.", "invalid_request_error", key, "unknown_parameter"
                    ),
                )
        if body.get("memory_limit") not in (None, *MEMORY):
            return HTTPReply(400, error_body("Invalid value for 'memory_limit'.", "invalid_request_error"))
        expires = body.get("expires_after")
        if expires is not None and (
            not isinstance(expires, dict)
            or expires.get("anchor") != "last_active_at"
            or not isinstance(expires.get("minutes"), int)
        ):
            return HTTPReply(400, error_body("Invalid value for 'expires_after'.", "invalid_request_error"))
        box = self.hosted.new_container(self._id, body["name"], body.get("memory_limit"))
        box.expires_after = expires
        return HTTPReply(200, box.view())

    def _upload(self, request: RecordedRequest, box: Container) -> HTTPReply:
        fields = multipart_fields(request)
        upload = fields.get("file")
        if upload is None or not upload[0]:
            return HTTPReply(
                400, error_body("Missing required parameter: 'file'.", "invalid_request_error", "file")
            )
        name = os.path.basename(upload[0])
        (box.root / name).write_bytes(upload[1])
        path = f"{MOUNT}/{name}"
        for old, entry in list(box.files.items()):
            if entry["path"] == path:
                del box.files[old]
        fid = self._id("cfile")
        box.files[fid] = _file_view(fid, box, path, len(upload[1]), "user")
        return HTTPReply(200, box.files[fid])


def _page(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": False,
    }


# --------------------------------------------------------------------------- hosted output items


def container_of(body: dict[str, Any], hosted: HostedState, new_id: Any) -> Container | None:
    """The container a request's ``shell`` tool runs in (a ``container_auto`` one is made for it)."""
    for tool in body.get("tools") or []:
        env = tool.get("environment") if isinstance(tool, dict) and tool.get("type") == "shell" else None
        if not isinstance(env, dict):
            continue
        if env.get("type") == "container_reference":
            return hosted.containers.get(env["container_id"])
        if env.get("type") == "container_auto":
            return hosted.new_container(new_id, memory_limit=env.get("memory_limit"))
    return None


def hosted_output(
    scripted: list[dict[str, Any]],
    body: dict[str, Any],
    context: list[dict[str, Any]],
    hosted: HostedState,
    new_id: Any,
) -> list[dict[str, Any]]:
    """The server-run part of a response: MCP tool listings, approved MCP calls, then the scripted items
    with hosted shell calls run in their container (each followed by its ``shell_call_output``)."""
    out: list[dict[str, Any]] = []
    listed = {it.get("server_label") for it in context if it.get("type") == "mcp_list_tools"}
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == "mcp" and tool["server_label"] not in listed:
            tools = hosted.mcp_tools.get(tool["server_label"], [])
            out.append({"id": new_id("mcpl"), "type": "mcp_list_tools", "server_label": tool["server_label"],
                        "tools": tools})  # fmt: skip
    requests = {it.get("id"): it for it in context if it.get("type") == "mcp_approval_request"}
    done = {it.get("approval_request_id") for it in context if it.get("type") == "mcp_call"}
    for it in context:
        if it.get("type") != "mcp_approval_response" or not it.get("approve"):
            continue
        req = requests.get(it.get("approval_request_id"))
        if req is None or req["id"] in done:
            continue
        out.append(
            {
                "id": new_id("mcp"),
                "type": "mcp_call",
                "status": "completed",
                "approval_request_id": req["id"],
                "arguments": req["arguments"],
                "error": None,
                "name": req["name"],
                "output": hosted.mcp_outputs.get(req["name"], "ok"),
                "server_label": req["server_label"],
            }
        )
    box: Container | None = None
    for item in scripted:
        out.append(item)
        if item["type"] == "mcp_approval_request":
            item.setdefault("arguments", "{}")
        if item["type"] != "shell_call":
            continue
        env = item.get("environment")
        if env is None:
            box = box or container_of(body, hosted, new_id)
            if box is None:
                continue  # a local shell: the client runs it
            item["environment"] = {"type": "container_reference", "container_id": box.id}
        elif isinstance(env, dict) and env.get("type") == "container_reference":
            box = hosted.containers.get(env.get("container_id", ""))
        if box is None:
            continue
        action = item.get("action") or {}
        chunks = box.run(list(action.get("commands") or []), action.get("timeout_ms"))
        item.setdefault("call_id", f"call_{os.urandom(12).hex()}")
        item.setdefault("status", "completed")
        out.append(
            {
                "id": new_id("sho"),
                "type": "shell_call_output",
                "call_id": item["call_id"],
                "max_output_length": action.get("max_output_length"),
                "output": chunks,
                "status": "completed",
            }
        )
    return out


def check_approval_response(item: dict[str, Any], i: int, calls: dict[str, str]) -> None:
    """An ``mcp_approval_response`` must answer a request of this conversation, once."""
    rid = item.get("approval_request_id")
    if not isinstance(rid, str):
        raise missing_parameter(f"input[{i}].approval_request_id")
    if not isinstance(item.get("approve"), bool):
        raise APIFailure(
            f"Invalid type for 'input[{i}].approve': expected a boolean.",
            param=f"input[{i}].approve",
            code="invalid_type",
        )
    if "reason" in item and not isinstance(item["reason"], str | None):
        raise APIFailure(
            f"Invalid type for 'input[{i}].reason'.", param=f"input[{i}].reason", code="invalid_type"
        )
    if calls.get(rid) != "mcp_approval_request":
        raise APIFailure(f"No approval request found with id '{rid}'.", param="input")
    calls[rid] = "answered"
