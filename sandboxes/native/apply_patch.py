"""The V4A diff format of OpenAI's ``apply_patch`` tool, parsed and applied by our own code.

An ``apply_patch_call`` carries one operation: ``create_file{path, diff}``, ``update_file{path, diff}`` or
``delete_file{path}``. The diff of a create is the new file, every line prefixed with ``+``. The diff of an
update is a list of hunks (no line numbers; text locates them):

* ``@@`` or ``@@ <anchor>`` opens a hunk. Several ``@@ <anchor>`` lines in a row narrow the place down
  step by step (``@@ class Foo`` then ``@@     def bar``): each anchor is the next matching line at or after
  the previous one. A diff may start without ``@@`` (one implicit hunk).
* in a hunk, a line starting with a space is context, ``-`` a removed line, ``+`` an added line. An empty
  line counts as an empty context line (models often drop the lone space); empty lines that end a hunk
  and do not match are taken for stray blank lines and dropped. The line numbers of a unified-diff header
  (``@@ -12,5 +12,6 @@ def f``) are ignored; the text after them is the anchor.
* ``*** End of File`` closes a hunk that must match at the end of the file.
* the envelope lines of the full patch language (``*** Begin Patch``, ``*** End Patch``, ``*** Update File:``,
  ``*** Add File:``, ``*** Delete File:``) are accepted and ignored; ``*** Move to: <path>`` renames the file.

Matching is whitespace tolerant the way the format's reference applier is: a hunk's context and removed
lines are looked for exactly, then ignoring trailing whitespace, then ignoring surrounding whitespace,
then also folding typographic punctuation (dashes, curly quotes, non-breaking spaces) to ASCII. The first
level that finds the lines wins. Hunks apply in order, each after the previous one. Without an anchor or
an end-of-file marker the lines must be found exactly once after the previous hunk (otherwise the hunk is
*ambiguous* and fails); with one, the first place after the anchor is used. Context lines keep the file's
own text; added lines are written as sent.

Line endings: a file that uses CRLF keeps CRLF (the diff's own ``\\r`` are ignored); a file that ended
without a newline still does, one that ended with one still does. A created file always ends with a
newline.

A failure changes nothing and says which hunk, what was expected and what the file has there, so the model
can correct its patch. Pure functions (:func:`parse_v4a`, :func:`apply_v4a`, :func:`create_content`) work
on strings; :func:`apply_patch` runs an operation against a sandbox.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from agentcore.errors import PathEscapeError, SandboxError

if TYPE_CHECKING:
    from ..base import Sandbox

__all__ = [
    "Hunk",
    "ParsedDiff",
    "PatchFailed",
    "PatchStatus",
    "apply_patch",
    "apply_v4a",
    "create_content",
    "parse_v4a",
]

PatchStatus = Literal["completed", "failed"]

END_OF_FILE = "*** End of File"
MOVE_TO = "*** Move to:"
_IGNORED_PREFIXES = (
    "*** Begin Patch",
    "*** End Patch",
    "*** Update File:",
    "*** Add File:",
    "*** Delete File:",
)
MAX_PATCH_FILE_BYTES = 10_000_000
_SHOWN_LINES = 12
"""How many expected/found lines a failure message shows."""


class PatchFailed(Exception):
    """The diff does not parse or does not apply. The message is written for the model."""


@dataclass
class Hunk:
    """One ``@@`` section: its anchors and its lines as ``(op, text)``; op is ``" "`` (context), ``"-"``,
    ``"+"``, or ``"~"`` (an empty diff line: an empty context line)."""

    number: int
    anchors: list[str] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)
    end_of_file: bool = False

    @property
    def old(self) -> list[str]:
        """What the file must contain: context and removed lines, in order."""
        return [text for op, text in self.lines if op != "+"]

    @property
    def new(self) -> list[str]:
        return [text for op, text in self.lines if op != "-"]

    @property
    def changes(self) -> bool:
        return any(op in "-+" for op, _ in self.lines)

    def without_loose_tail(self) -> Hunk | None:
        """The hunk without the empty diff lines that end it (a model's stray blank lines), or None when
        it has none. Those lines count as empty context lines; when that does not match, this is retried."""
        end = len(self.lines)
        while end and self.lines[end - 1][0] == "~":
            end -= 1
        if end == len(self.lines):
            return None
        return Hunk(self.number, list(self.anchors), self.lines[:end], self.end_of_file)


@dataclass
class ParsedDiff:
    hunks: list[Hunk]
    move_to: str | None = None


# --------------------------------------------------------------------------- parsing

_UNIFIED_HEADER = re.compile(r"^-\d+(?:,\d+)? \+\d+(?:,\d+)? @@")
"""Line numbers of a unified diff hunk header, which models sometimes write; V4A ignores them."""


def _diff_lines(diff: str) -> list[str]:
    lines = [line[:-1] if line.endswith("\r") else line for line in diff.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return lines


def parse_v4a(diff: str) -> ParsedDiff:
    """Parse the diff of an ``update_file`` operation. Raises :class:`PatchFailed` on a malformed diff."""
    hunks: list[Hunk] = []
    move_to: str | None = None
    current: Hunk | None = None
    for lineno, line in enumerate(_diff_lines(diff), start=1):
        if line.startswith(MOVE_TO):
            move_to = line[len(MOVE_TO) :].strip() or None
            continue
        if line.startswith(_IGNORED_PREFIXES):
            continue
        if line.strip() == END_OF_FILE:
            if current is None:
                raise PatchFailed(f"line {lineno}: '{END_OF_FILE}' before any hunk")
            current.end_of_file = True
            current = None  # a new hunk needs a new @@
            continue
        if line.startswith("@@"):
            anchor = _UNIFIED_HEADER.sub("", line[2:].strip()).strip()
            if anchor.endswith("@@"):
                anchor = anchor[:-2].strip()
            if current is None or current.lines:
                current = Hunk(number=len(hunks) + 1)
                hunks.append(current)
            if anchor:
                current.anchors.append(anchor)
            continue
        if current is None:
            if hunks and hunks[-1].end_of_file:
                raise PatchFailed(f"line {lineno}: text after '{END_OF_FILE}' must start a new hunk with @@")
            current = Hunk(number=len(hunks) + 1)
            hunks.append(current)
        if line == "":
            current.lines.append(("~", ""))
        elif line[0] in " -+":
            current.lines.append((line[0], line[1:]))
        else:
            raise PatchFailed(
                f"line {lineno} of the diff is not part of a hunk: {line[:80]!r}. Every line of an update "
                "diff starts with ' ' (context), '-' (removed), '+' (added), or '@@' (a new hunk)."
            )
    hunks = [h for h in hunks if h.lines]
    if not hunks and move_to is None:
        raise PatchFailed("the diff has no hunks: nothing to change")
    for i, hunk in enumerate(hunks, start=1):
        hunk.number = i
        if not hunk.changes:
            raise PatchFailed(f"hunk {i} has only context lines and changes nothing")
    return ParsedDiff(hunks=hunks, move_to=move_to)


def create_content(diff: str) -> str:
    """The content of a ``create_file`` diff: every line starts with ``+`` (an empty line is an empty
    line). The result ends with a newline."""
    out: list[str] = []
    for lineno, line in enumerate(_diff_lines(diff), start=1):
        if line.startswith(_IGNORED_PREFIXES):
            continue
        if line.startswith("+"):
            out.append(line[1:])
        elif line == "":
            out.append("")
        else:
            raise PatchFailed(
                f"line {lineno} of the create_file diff does not start with '+': {line[:80]!r}. "
                "Every line of a new file is written as '+' followed by the line."
            )
    text = "\n".join(out)
    if not text.endswith("\n"):
        text += "\n"
    return text


# --------------------------------------------------------------------------- matching

_PUNCTUATION = str.maketrans(
    {
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)


def _exact(s: str) -> str:
    return s


def _rstrip(s: str) -> str:
    return s.rstrip()


def _strip(s: str) -> str:
    return s.strip()


def _fold(s: str) -> str:
    return s.translate(_PUNCTUATION).strip()


_LEVELS = (_exact, _rstrip, _strip, _fold)


def _find_all(lines: list[str], pattern: list[str], start: int, norm: Any) -> list[int]:
    if not pattern:
        return []
    want = [norm(p) for p in pattern]
    first = want[0]
    found = []
    for i in range(start, len(lines) - len(pattern) + 1):
        if norm(lines[i]) == first and all(norm(lines[i + k]) == want[k] for k in range(1, len(want))):
            found.append(i)
    return found


def _find_anchor(lines: list[str], anchor: str, start: int) -> int | None:
    for norm in _LEVELS:
        want = norm(anchor)
        for i in range(start, len(lines)):
            if norm(lines[i]) == want:
                return i
    return None


def _similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= 0.6 else 0.0


def _closest(lines: list[str], pattern: list[str], start: int) -> tuple[int, float]:
    """(position, score) of the window after ``start`` most like ``pattern`` (line by line, stripped)."""
    best, best_score = start, 0.0
    want = [p.strip() for p in pattern]
    if len(lines) * len(want) > 2_000_000:  # too big to compare: say nothing rather than stall
        return best, best_score
    stripped = [line.strip() for line in lines]
    for i in range(start, max(start, len(lines) - len(pattern)) + 1):
        score = sum(_similarity(stripped[i + k], w) for k, w in enumerate(want) if i + k < len(lines))
        if score > best_score:
            best, best_score = i, score
    return best, best_score


def _show(lines: list[str], first_lineno: int | None = None) -> str:
    shown = lines[:_SHOWN_LINES]
    if first_lineno is None:
        text = "\n".join(f"  |{line}" for line in shown)
    else:
        text = "\n".join(f"  {first_lineno + k:>5} |{line}" for k, line in enumerate(shown))
    if len(lines) > _SHOWN_LINES:
        text += f"\n  ... ({len(lines) - _SHOWN_LINES} more lines)"
    return text


def _where(hunk: Hunk, total: int) -> str:
    if hunk.anchors:
        return f"hunk {hunk.number} of {total} (@@ {' / @@ '.join(hunk.anchors)})"
    return f"hunk {hunk.number} of {total}"


def _locate(lines: list[str], hunk: Hunk, cursor: int, total: int) -> tuple[int, int]:
    """Where ``hunk`` applies: (start index, number of file lines it replaces)."""
    where = _where(hunk, total)
    start = cursor
    for anchor in hunk.anchors:
        found = _find_anchor(lines, anchor, start)
        if found is None:
            raise PatchFailed(
                f"{where} did not apply: the @@ line {anchor!r} was not found"
                + (f" after line {start}" if start else "")
                + ". The @@ text must copy a line of the file (a class or function header)."
            )
        start = found + 1
    old = hunk.old
    if not old:  # a pure insertion
        if hunk.end_of_file:
            return len(lines), 0
        if hunk.anchors or not lines:
            return start, 0
        raise PatchFailed(
            f"{where} did not apply: it adds lines but has no context lines, no @@ anchor and no "
            f"'{END_OF_FILE}', so there is no telling where they go. Add context lines around them."
        )
    if hunk.end_of_file:
        at = len(lines) - len(old)
        for norm in _LEVELS:
            if at >= start and [norm(x) for x in lines[at:]] == [norm(x) for x in old]:
                return at, len(old)
        found_lines = lines[max(0, len(lines) - len(old)) :]
        raise PatchFailed(
            f"{where} did not apply: it is marked '{END_OF_FILE}' but the file does not end with its lines.\n"
            f"Expected the file to end with:\n{_show(old)}\n"
            f"The file ends with (line numbers of the file):\n"
            f"{_show(found_lines, max(1, len(lines) - len(old) + 1)) if found_lines else '  (empty file)'}"
        )
    for norm in _LEVELS:
        places_found = _find_all(lines, old, start, norm)
        if not places_found:
            continue
        if len(places_found) > 1 and not hunk.anchors:
            places = ", ".join(str(i + 1) for i in places_found[:8])
            raise PatchFailed(
                f"{where} is ambiguous: its context and removed lines occur {len(places_found)} times "
                f"(at lines {places}). Add an @@ line naming the enclosing class or function, or more "
                f"context lines, so the place is unique.\nThe lines:\n{_show(old)}"
            )
        return places_found[0], len(old)
    pos, score = _closest(lines, old, start)
    if score:
        found_text = f"The closest text in the file (line numbers of the file):\n{_show(lines[pos : pos + len(old)], pos + 1)}"
    else:
        found_text = "No line of the file after that point matches any of them."
    after = f" after line {start}" if start else ""
    raise PatchFailed(
        f"{where} did not apply: its context and removed lines were not found{after}.\n"
        f"Expected (context and '-' lines, in order):\n{_show(old)}\n{found_text}\n"
        "Read the file again and resend the patch with context lines copied exactly."
    )


@dataclass
class _Text:
    lines: list[str]
    eol: str
    final_newline: bool

    @classmethod
    def split(cls, text: str) -> _Text:
        eol = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
        final = text.endswith("\n")
        body = text[:-1] if final else text
        lines = body.split("\n") if body or final else []
        if eol == "\r\n":
            lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        return cls(lines, eol, final or not text)

    def join(self) -> str:
        if not self.lines:
            return ""
        return self.eol.join(self.lines) + (self.eol if self.final_newline else "")


def apply_v4a(original: str, diff: str | ParsedDiff) -> str:
    """``original`` with the hunks of ``diff`` applied. Raises :class:`PatchFailed` (nothing applied)."""
    parsed = parse_v4a(diff) if isinstance(diff, str) else diff
    text = _Text.split(original)
    lines = text.lines
    out: list[str] = []
    cursor = 0
    total = len(parsed.hunks)
    for hunk in parsed.hunks:
        try:
            at, length = _locate(lines, hunk, cursor, total)
        except PatchFailed as first:
            trimmed = hunk.without_loose_tail()
            if trimmed is None:
                raise
            try:
                at, length = _locate(lines, trimmed, cursor, total)
            except PatchFailed:
                raise first from None  # the message about the hunk as sent
            hunk = trimmed
        out.extend(lines[cursor:at])
        index = at
        for op, new_text in hunk.lines:
            if op in " ~":
                out.append(lines[index])
                index += 1
            elif op == "-":
                index += 1
            else:
                out.append(new_text)
        cursor = at + length
    out.extend(lines[cursor:])
    return _Text(out, text.eol, text.final_newline).join()


# --------------------------------------------------------------------------- against a sandbox


async def _read_text(sandbox: Sandbox, path: str) -> str:
    data = await sandbox.read_file(path, max_bytes=MAX_PATCH_FILE_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PatchFailed(f"{path} is not UTF-8 text; it cannot be patched") from None


async def _is_file(sandbox: Sandbox, path: str) -> bool:
    info = await sandbox.stat(path)
    return info is not None and info.type == "file"


async def apply_patch(sandbox: Sandbox, operation: Mapping[str, Any]) -> tuple[PatchStatus, str]:
    """Apply one ``apply_patch_call`` operation in ``sandbox``: ``("completed", log)`` or
    ``("failed", why)``. A failure leaves every file as it was."""
    kind = operation.get("type")
    path = operation.get("path")
    diff = operation.get("diff") or ""
    if not isinstance(path, str) or not path:
        return "failed", "the operation has no path"
    if not isinstance(diff, str):
        return "failed", "the diff must be a string"
    try:
        if kind == "create_file":
            content = create_content(diff)
            existed = await _is_file(sandbox, path)
            await sandbox.write_file(path, content.encode("utf-8"))
            verb = "Replaced" if existed else "Created"
            n = content.count("\n")
            return "completed", f"{verb} {path} ({n} line{'' if n == 1 else 's'})"
        if kind == "delete_file":
            info = await sandbox.stat(path)
            if info is None:
                return "failed", f"Cannot delete {path}: no such file"
            if info.type == "dir":
                return "failed", f"Cannot delete {path}: it is a directory, not a file"
            await sandbox.remove(path)
            return "completed", f"Deleted {path}"
        if kind == "update_file":
            return await _update(sandbox, path, diff, operation.get("move_path"))
    except PatchFailed as exc:
        return "failed", f"apply_patch {kind} {path}: {exc}\nNothing was changed."
    except PathEscapeError as exc:
        return "failed", f"apply_patch {kind} {path}: {exc}"
    except SandboxError as exc:
        return "failed", f"apply_patch {kind} {path}: {exc}\nNothing was changed."
    return "failed", f"unknown operation type {kind!r}: use create_file, update_file or delete_file"


async def _update(sandbox: Sandbox, path: str, diff: str, move_path: Any) -> tuple[PatchStatus, str]:
    if not await _is_file(sandbox, path):
        info = await sandbox.stat(path)
        what = "no such file" if info is None else f"it is a {info.type}, not a file"
        return "failed", (
            f"Cannot update {path}: {what}. Use create_file for a new file.\nNothing was changed."
        )
    parsed = parse_v4a(diff)
    destination = parsed.move_to or (move_path if isinstance(move_path, str) and move_path else None)
    original = await _read_text(sandbox, path)
    updated = apply_v4a(original, parsed) if parsed.hunks else original
    if destination is None or destination == path:
        await sandbox.write_file(path, updated.encode("utf-8"))
        return (
            "completed",
            f"Updated {path} ({len(parsed.hunks)} hunk{'s' if len(parsed.hunks) != 1 else ''})",
        )
    if await sandbox.stat(destination) is not None:
        return "failed", f"Cannot move {path} to {destination}: it already exists.\nNothing was changed."
    info = await sandbox.stat(path)
    await sandbox.write_file(
        destination, updated.encode("utf-8"), mode=(info.mode if info else 0o644) or 0o644
    )
    try:
        await sandbox.remove(path)
    except SandboxError:
        await sandbox.remove(destination)  # undo: the operation is all or nothing
        raise
    return "completed", f"Updated {path} and moved it to {destination}"
