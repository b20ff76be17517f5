"""Computer use on a real display: Xvfb in the sandbox, a real Tk application, xdotool, PNG screenshots.

Assertions are on the application's state (``state.json``, its window title) and on pixels.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from agentcore import Agent
from agentcore.messages import ImagePart, TextPart, ToolResult, keep_last_images
from agentcore.run.runner import Runner
from agentcore.sandboxes.base import Sandbox
from agentcore.sandboxes.desktop import DesktopConfig, Scaling, xdotool_combo
from agentcore.sandboxes.desktop.image import decode_png_rgb, png_size
from agentcore.testing import ScriptedModel, tool_call

from .conftest import open_app, start_desktop

# The app's window is at (40, 40): the button covers (60..260, 60..120), the entry (60..360, 150..180).
BUTTON = (160, 90)
PAINT = (75, 70)  # a point of the button away from its label
ENTRY = (200, 165)
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "computer-use.png"
RED, GREEN = (0xD0, 0x00, 0x00), (0x00, 0xC0, 0x00)


def pixel(png: bytes, x: int, y: int) -> tuple[int, int, int]:
    width, _height, rgb = decode_png_rgb(png)
    i = 3 * (y * width + x)
    return rgb[i], rgb[i + 1], rgb[i + 2]


def near(color: tuple[int, int, int], expected: tuple[int, int, int], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(color, expected, strict=True))


async def state(sandbox: Sandbox) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(await sandbox.read_file("state.json"))
    return data


async def eventually(sandbox: Sandbox, key: str, value: Any) -> dict[str, Any]:
    current: dict[str, Any] = {}
    for _ in range(200):
        current = await state(sandbox)
        if current.get(key) == value:
            return current
        await asyncio.sleep(0.05)
    raise AssertionError(f"state.json never had {key}={value!r}: {current}")


async def test_desktop_operations_drive_a_real_app(desktop_sandbox: Sandbox) -> None:
    sb = desktop_sandbox
    desktop = sb.desktop
    png = await desktop.screenshot()
    assert png_size(png) == (1280, 800)
    await open_app(sb)
    before = await desktop.screenshot()
    assert near(pixel(before, *PAINT), RED)
    await desktop.click(*BUTTON)
    await eventually(sb, "clicks", 1)
    await desktop.click(*ENTRY)
    await desktop.type("world " * 12, delay_ms=1)  # more than one chunk
    await desktop.key("ctrl+a")  # Tk: the start of the line
    await desktop.key(["END"])  # OpenAI's spelling
    await desktop.key("BackSpace")
    await desktop.key("Return")
    done = await eventually(sb, "submitted", ("world " * 12)[:-1])
    assert done["clicks"] == 1
    after = await desktop.screenshot()
    assert near(pixel(after, *PAINT), GREEN)
    assert await desktop.cursor_position() == ENTRY
    title = await sb.exec(["xdotool", "search", "--name", "hello world"], env=desktop.env)
    assert title.ok and title.text.strip()
    # the shell and file tools work alongside, as the sandbox user, without network
    who = await sb.exec(["sh", "-c", "id -u; echo $DISPLAY"], env=desktop.env)
    assert who.text.split() == [str(sb.config.uid), ":1"]


async def test_zoom_scroll_drag_and_move(desktop_sandbox: Sandbox) -> None:
    desktop = desktop_sandbox.desktop
    await open_app(desktop_sandbox)
    zoomed = await desktop.zoom((60, 60, 260, 120))
    width, height = png_size(zoomed)
    assert (width, height) == (1280, 384)  # the region fitted into the 1280x800 view, aspect kept
    assert near(pixel(zoomed, 100, 60), RED)  # (75, 69) on the screen
    await desktop.move(700, 500)
    assert await desktop.cursor_position() == (700, 500)
    await desktop.drag([(700, 500), (720, 520), (740, 530)])
    assert await desktop.cursor_position() == (740, 530)
    await desktop.scroll(300, 300, dx=0, dy=3)
    assert await desktop.cursor_position() == (300, 300)


async def test_a_scripted_model_uses_the_computer_tool(backend_name: str, desktop_sandbox: Sandbox) -> None:
    sb = desktop_sandbox
    await open_app(sb)
    model = ScriptedModel(
        [
            tool_call("computer", {"action": "screenshot"}),
            tool_call("computer", {"action": "click", "x": BUTTON[0], "y": BUTTON[1]}),
            tool_call("computer", {"action": "click", "x": ENTRY[0], "y": ENTRY[1]}),
            tool_call("computer", {"action": "type", "text": "agent"}),
            tool_call("computer", {"action": "key", "keys": "Return"}),
            tool_call("computer", {"action": "wait", "seconds": 0.3}),
            "done",
        ]
    )
    agent = Agent(name="desk", model=model, sandbox=sb)
    result = await Runner.run(agent, "press the button, then type 'agent' and press Enter")
    assert (await eventually(sb, "submitted", "agent"))["clicks"] == 1
    results = [i for i in result.items if isinstance(i, ToolResult)]
    assert [r.is_error for r in results] == [False] * 6
    first, last = results[0].parts[0], results[-1].parts[0]
    assert isinstance(first, ImagePart) and isinstance(last, ImagePart) and first.data and last.data
    import base64

    assert near(pixel(base64.b64decode(first.data), *PAINT), RED)
    assert near(pixel(base64.b64decode(last.data), *PAINT), GREEN)
    if backend_name == "local" and os.environ.get("AGENTCORE_REGENERATE_DOCS") == "1":
        DOCS_IMG.write_bytes(base64.b64decode(last.data))  # what the model saw last (docs/computer-use.md)
    # the model was shown only the last 3 screenshots; older ones became a placeholder
    shown = [i for i in model.requests[-1].items if isinstance(i, ToolResult)]
    kinds = [type(r.parts[0]).__name__ for r in shown]
    assert kinds == ["TextPart"] * 3 + ["ImagePart"] * 3
    assert isinstance(shown[0].parts[0], TextPart)
    # the transcript keeps every screenshot
    assert all(isinstance(r.parts[0], ImagePart) for r in results)


async def test_a_model_seeing_a_smaller_image_clicks_the_right_pixel(backend_name: str) -> None:
    sb = await start_desktop(backend_name, DesktopConfig(max_image=(640, 480)))
    try:
        assert sb.desktop.scaling.view == (640, 400)
        await open_app(sb)
        model = ScriptedModel(
            [
                tool_call("computer", {"action": "screenshot"}),
                # the button's centre in the half-size image the model sees
                tool_call("computer", {"action": "click", "x": BUTTON[0] // 2, "y": BUTTON[1] // 2}),
                tool_call("computer", {"action": "cursor_position"}),
                "done",
            ]
        )
        result = await Runner.run(Agent(name="small", model=model, sandbox=sb), "click it")
        await eventually(sb, "clicks", 1)
        assert await sb.desktop.cursor_position() == BUTTON
        results = [i for i in result.items if isinstance(i, ToolResult)]
        shot = results[0].parts[0]
        assert isinstance(shot, ImagePart) and shot.data
        import base64

        image = base64.b64decode(shot.data)
        assert png_size(image) == (640, 400)
        assert near(pixel(image, PAINT[0] // 2, PAINT[1] // 2), RED)
        assert results[2].output == f"cursor at ({BUTTON[0] // 2}, {BUTTON[1] // 2})"
    finally:
        await sb.close()


async def test_errors_come_back_to_the_model(desktop_sandbox: Sandbox) -> None:
    model = ScriptedModel(
        [
            tool_call("computer", {"action": "click", "x": 5000, "y": 10}),
            tool_call("computer", {"action": "key", "keys": "ctrl+nosuchkey!"}),
            tool_call("computer", {"action": "fly"}),
            "ok",
        ]
    )
    result = await Runner.run(Agent(name="err", model=model, sandbox=desktop_sandbox), "go")
    errors = [i for i in result.items if isinstance(i, ToolResult)]
    assert [e.is_error for e in errors] == [True, True, True]
    assert "outside the 1280x800 screenshot" in errors[0].output
    assert "unknown key name" in errors[1].output
    assert errors[2].parts == ()


def test_scaling_maps_both_ways() -> None:
    s = Scaling((1280, 800), (640, 400))
    assert s.to_screen(80, 45) == (160, 90)
    assert s.to_view(160, 90) == (80, 45)
    assert s.to_screen(639, 399) == (1278, 798)
    assert s.to_screen(10_000, -5) == (1279, 0)
    assert DesktopConfig(max_image=(1024, 768)).view_size == (1024, 640)
    assert DesktopConfig(width=1024, height=768, max_image=(1280, 800)).view_size == (1024, 768)


def test_vendor_key_names_map_to_xdotool() -> None:
    assert xdotool_combo("ctrl+s") == ["ctrl+s"]  # Anthropic: xdotool already
    assert xdotool_combo(["CTRL", "A"]) == ["ctrl+a"]  # OpenAI: keys held together
    assert xdotool_combo(["ENTER"]) == ["Return"]
    assert xdotool_combo("control+shift+t") == ["ctrl+shift+t"]  # Gemini
    assert xdotool_combo("enter") == ["Return"]
    assert xdotool_combo("ctrl+a Delete") == ["ctrl+a", "Delete"]
    assert xdotool_combo(["PAGEDOWN"]) == ["Next"]
    assert xdotool_combo("F5") == ["F5"]


def test_keep_last_images_replaces_older_screenshots() -> None:
    image = ImagePart(data="AAAA")
    items = [ToolResult(call_id=str(n), name="computer", output="x", parts=(image,)) for n in range(5)]
    kept = keep_last_images(items, 2)
    assert [type(i.parts[0]).__name__ for i in kept if isinstance(i, ToolResult)] == ["TextPart"] * 3 + [
        "ImagePart"
    ] * 2
    assert kept[0].id != items[0].id and kept[4] is items[4]
    assert keep_last_images(items, None) == items


async def test_the_host_side_framebuffer_read_never_follows_a_planted_symlink(backend_name: str) -> None:
    import pytest

    from agentcore.sandboxes.desktop import DesktopError
    from agentcore.sandboxes.desktop.framebuffer import HostFramebuffer

    sb = await start_desktop(backend_name, DesktopConfig())
    try:
        if backend_name == "local" or os.geteuid() == 0:  # docker: /proc/<container pid>/root needs root
            assert sb.desktop._host_fb is not None  # screenshots start no process
        root_pid = await asyncio.to_thread(sb.desktop._sandbox_pid)
        assert root_pid is not None
        planted = await sb.exec(
            ["sh", "-c", "ln -s /etc /tmp/link && mkfifo /tmp/fifo && ln -s /etc/passwd /tmp/file"]
        )
        assert planted.ok
        for path in ("/tmp/link/passwd", "/tmp/fifo", "/tmp/file", "/tmp/../etc/passwd"):
            with pytest.raises(DesktopError):
                HostFramebuffer.open(root_pid, path, 4096)
    finally:
        await sb.close()


async def test_a_click_outside_the_allowed_region_waits_for_a_human(desktop_sandbox: Sandbox) -> None:
    from agentcore.sandboxes.desktop import outside_region

    sb = desktop_sandbox
    await open_app(sb)
    computer = sb.desktop.tool(needs_approval=outside_region(40, 40, 440, 280))  # the app's window
    model = ScriptedModel(
        [
            tool_call("computer", {"action": "click", "x": BUTTON[0], "y": BUTTON[1]}),
            tool_call("computer", {"action": "click", "x": 900, "y": 700}),
            "understood, staying in the window",
        ]
    )
    agent = Agent(name="careful", model=model, tools=[computer])
    paused = await Runner.run(agent, "go")
    (pending,) = paused.interruptions
    assert json.loads(pending.call.arguments)["x"] == 900
    await eventually(sb, "clicks", 1)  # the click inside ran without asking
    state = paused.state
    state.reject(pending.call.call_id, "stay in the app")
    done = await Runner.run(agent, state)
    assert done.final_output == "understood, staying in the window"
    assert await sb.desktop.cursor_position() == BUTTON  # the rejected click never happened


async def test_a_sandbox_the_runner_starts_comes_with_its_computer_tool(backend_name: str) -> None:
    from tests.sandboxes.backends import BACKENDS, sandbox_config

    sb = await BACKENDS[backend_name].factory(sandbox_config(desktop=DesktopConfig(max_image=(640, 480))))
    assert [t.name for t in sb.tools()][-1] == "computer"  # listed before the start
    model = ScriptedModel([tool_call("computer", {"action": "screenshot"}), "seen"])
    result = await Runner.run(Agent(name="fresh", model=model, sandbox=sb), "look")
    (shot,) = [i for i in result.items if isinstance(i, ToolResult)]
    assert not shot.is_error and isinstance(shot.parts[0], ImagePart) and shot.parts[0].data
    import base64

    assert png_size(base64.b64decode(shot.parts[0].data)) == (640, 400)
    assert sb.closed  # a run-lifetime sandbox ends with the run


async def test_no_network_means_no_host_listener_from_the_desktop_sandbox(desktop_sandbox: Sandbox) -> None:
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        port = server.getsockname()[1]
        probe = "import socket,sys\ntry:\n socket.create_connection(('127.0.0.1', int(sys.argv[1])), 2)\n print('reached')\nexcept OSError as e:\n print('refused', e)"
        result = await desktop_sandbox.exec(["python3", "-c", probe, str(port)])
        assert result.text.startswith("refused"), result.text
    finally:
        server.close()


def test_tool_output_survives_pickling() -> None:
    import pickle

    from agentcore.tools import ToolOutput

    out = ToolOutput("clicked", [ImagePart(data="AAAA")])
    back = pickle.loads(pickle.dumps(out))
    assert back == "clicked" and isinstance(back, ToolOutput) and back.parts == out.parts


async def test_typed_text_arrives_exactly_unicode_and_shell_characters_included(
    desktop_sandbox: Sandbox,
) -> None:
    text = "héllo wörld ✓ 'q' \"dq\" $HOME `x` \\ ; $(id)"
    await open_app(desktop_sandbox)
    await desktop_sandbox.desktop.click(*ENTRY)
    await desktop_sandbox.desktop.type(text)
    await desktop_sandbox.desktop.key("enter")  # Gemini's spelling
    await eventually(desktop_sandbox, "submitted", text)
