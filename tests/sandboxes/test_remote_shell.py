"""The byte-level pieces the remote backends share: Docker's frame decoder and the shell wrapper's
pid/exit lines. No engine needed."""

from __future__ import annotations

import struct

from agentcore.sandboxes._remote_shell import MarkedStream, split_pid_line
from agentcore.sandboxes.docker.exec import FrameDecoder


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def test_frames_are_reassembled_whatever_the_chunking() -> None:
    wire = frame(1, b"hello ") + frame(2, b"oops\n") + frame(1, b"") + frame(1, b"world\n" * 1000)
    for size in (1, 3, 7, 8, 9, 64, len(wire)):
        decoder = FrameDecoder()
        frames: list[tuple[int, bytes]] = []
        for i in range(0, len(wire), size):
            frames += decoder.feed(wire[i : i + size])
        assert frames == [(1, b"hello "), (2, b"oops\n"), (1, b""), (1, b"world\n" * 1000)]
        assert decoder.pending == 0


def test_the_pid_and_exit_lines_are_removed_from_the_shell_output() -> None:
    token = "__agentcore_0123456789abcdef"
    wire = f"{token} pid 42\nhello\nno newline at the end{token} exit 7\nlate background output".encode()
    for size in (1, 2, 5, len(wire)):
        marked = MarkedStream(token)
        out = b"".join(marked.feed(wire[i : i + size]) for i in range(0, len(wire), size))
        assert out == b"hello\nno newline at the end"
        assert (marked.pid, marked.exit_code, marked.exited) == (42, 7, True)


def test_output_ending_in_a_newline_is_never_held_back() -> None:
    # the shell protocol waits for its trailer, which ends with a newline: holding it back would hang
    marked = MarkedStream("__agentcore_ffff")
    assert marked.feed(b"__agentcore_ffff pid 1\n") == b""
    assert marked.feed(b"trailer line\n") == b"trailer line\n"
    assert marked.feed(b"partial __agent") == b"partial "  # could be the exit line: wait
    assert marked.feed(b"s are fine\n") == b"__agents are fine\n"


def test_exec_pid_line_is_split_from_stderr() -> None:
    assert split_pid_line("__agentcore_aa", b"__agentcore_aa pid 9\nreal error\n") == (9, b"real error\n")
    assert split_pid_line("__agentcore_aa", b"no pid line") == (None, b"no pid line")
