"""The V4A applier against a table of patches: each row is a file before, an operation and the file after
(or the failure the model is told about). Pure: no sandbox."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from agentcore.sandboxes.native.apply_patch import PatchFailed, apply_v4a, create_content, parse_v4a

CALC = """\
def add(a, b):
    return a - b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
"""

CLASS = """\
class Shop:
    def total(self):
        return 0

    def count(self):
        return 0


class Cart:
    def total(self):
        return 0
"""


@dataclass(frozen=True)
class Row:
    name: str
    before: str | None
    diff: str
    after: str | None = None
    error: str | None = None
    """A fragment of the failure message (then ``after`` is None)."""
    create: bool = False


ROWS = [
    # ---------------------------------------------------------------- create_file
    Row(
        "create: recorded shape (trailing '+' line)",
        None,
        "+## Shopping Checklist\n+\n+- [ ] Milk\n+- [ ] Coffee\n+\n",
        "## Shopping Checklist\n\n- [ ] Milk\n- [ ] Coffee\n",
        create=True,
    ),
    Row("create: no final newline in the diff", None, "+a\n+b", "a\nb\n", create=True),
    Row("create: intentional blank last line", None, "+a\n+\n+\n", "a\n\n", create=True),
    Row(
        "create: envelope lines ignored",
        None,
        "*** Begin Patch\n*** Add File: x.py\n+x = 1\n*** End Patch\n",
        "x = 1\n",
        create=True,
    ),
    Row("create: CRLF diff", None, "+a\r\n+b\r\n", "a\nb\n", create=True),
    Row("create: a line without '+'", None, "+a\nb\n", error="does not start with '+'", create=True),
    # ---------------------------------------------------------------- updates that apply
    Row(
        "update: one hunk with an anchor",
        CALC,
        "@@ def add(a, b):\n-    return a - b\n+    return a + b\n",
        CALC.replace("return a - b", "return a + b", 1),
    ),
    Row(
        "update: two hunks, context lines, in order",
        CALC,
        "@@\n def add(a, b):\n-    return a - b\n+    return a + b\n@@\n def mul(a, b):\n-    return a * b\n+    return b * a\n",
        CALC.replace("return a - b", "return a + b", 1).replace("a * b", "b * a"),
    ),
    Row(
        "update: three hunks, the middle one anchored",
        CALC,
        "@@ def add(a, b):\n-    return a - b\n+    return a + b\n@@ def sub(a, b):\n-    return a - b\n+    return a - b  # ok\n"
        "@@\n def mul(a, b):\n+    '''Multiply.'''\n     return a * b\n",
        "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b  # ok\n\n\n"
        "def mul(a, b):\n    '''Multiply.'''\n    return a * b\n",
    ),
    Row("update: no @@ at all (implicit hunk)", "a\nb\nc\n", " a\n-b\n+B\n c\n", "a\nB\nc\n"),
    Row(
        "update: nested anchors pick the right method",
        CLASS,
        "@@ class Cart:\n@@     def total(self):\n-        return 0\n+        return sum(self.items)\n",
        CLASS[: CLASS.rindex("return 0")] + "return sum(self.items)\n",
    ),
    Row(
        "update: an anchor skips an identical earlier block",
        CLASS,
        "@@ def count(self):\n-        return 0\n+        return len(self)\n",
        CLASS.replace(
            "    def count(self):\n        return 0", "    def count(self):\n        return len(self)"
        ),
    ),
    Row(
        "update: context moved (lines inserted above since)",
        "x = 0\ny = 0\n\ndef f():\n    return 1\n",
        "@@\n def f():\n-    return 1\n+    return 2\n",
        "x = 0\ny = 0\n\ndef f():\n    return 2\n",
    ),
    Row(
        "update: trailing whitespace in the file is tolerated",
        "a = 1   \nb = 2\n",
        " a = 1\n-b = 2\n+b = 3\n",
        "a = 1   \nb = 3\n",
    ),
    Row(
        "update: indentation differences in context tolerated, file text kept",
        "if x:\n\tcall()\n\tdone()\n",
        "     call()\n-    done()\n+\tfinish()\n",
        "if x:\n\tcall()\n\tfinish()\n",
    ),
    Row(
        "update: typographic punctuation folded",
        "s = \u201chello\u201d  # \u2014 note\nt = 1\n",
        ' s = "hello"  # - note\n-t = 1\n+t = 2\n',
        "s = \u201chello\u201d  # \u2014 note\nt = 2\n",
    ),
    Row("update: blank context line written as an empty line", "a\n\nb\n", " a\n\n-b\n+c\n", "a\n\nc\n"),
    Row(
        "update: end of file marker appends at the end",
        "a\nb\na\nb\n",
        "@@\n a\n b\n+c\n*** End of File\n",
        "a\nb\na\nb\nc\n",
    ),
    Row(
        "update: pure insertion after an anchor",
        "def f():\n    pass\n",
        "@@ def f():\n+    '''Doc.'''\n",
        "def f():\n    '''Doc.'''\n    pass\n",
    ),
    Row("update: file without a final newline keeps it that way", "a\nb", " a\n-b\n+c\n", "a\nc"),
    Row("update: final newline kept", "a\nb\n", "-a\n+z\n b\n", "z\nb\n"),
    Row("update: CRLF file stays CRLF", "a\r\nb\r\nc\r\n", " a\n-b\n+B\n c\n", "a\r\nB\r\nc\r\n"),
    Row("update: CRLF diff against an LF file", "a\nb\n", " a\r\n-b\r\n+B\r\n", "a\nB\n"),
    Row("update: deleting every line", "a\nb\n", "-a\n-b\n", ""),
    Row("update: into an empty file", "", "+first\n", "first\n"),
    Row(
        "update: envelope with Update File header",
        "a\n",
        "*** Begin Patch\n*** Update File: x.txt\n@@\n-a\n+b\n*** End Patch\n",
        "b\n",
    ),
    Row("update: stray blank lines after the last hunk", "a\nb\n", "@@\n-a\n+A\n b\n\n\n", "A\nb\n"),
    Row("update: a blank diff line that is real context", "a\n\nb\n", "-a\n+A\n\n b\n", "A\n\nb\n"),
    Row(
        "update: unified-diff header numbers are ignored",
        CALC,
        "@@ -1,2 +1,2 @@ def add(a, b):\n-    return a - b\n+    return a + b\n",
        CALC.replace("return a - b", "return a + b", 1),
    ),
    # ---------------------------------------------------------------- updates that fail
    Row(
        "fail: context not in the file",
        CALC,
        "@@\n def div(a, b):\n-    return a / b\n+    return a // b\n",
        error="hunk 1 of 1 did not apply: its context and removed lines were not found",
    ),
    Row("fail: ambiguous context", CALC, "-    return a - b\n+    return a + b\n", error="is ambiguous"),
    Row(
        "fail: anchor missing",
        CALC,
        "@@ def div(a, b):\n-    return a\n+    return b\n",
        error="the @@ line 'def div(a, b):' was not found",
    ),
    Row(
        "fail: second hunk fails, nothing applied",
        CALC,
        "@@ def add(a, b):\n-    return a - b\n+    return a + b\n@@ def mul(a, b):\n-    return a / b\n+    return 0\n",
        error="hunk 2 of 2 (@@ def mul(a, b):) did not apply",
    ),
    Row(
        "fail: end of file marker but not at the end",
        "a\nb\nc\n",
        " a\n-b\n+B\n*** End of File\n",
        error="does not end with its lines",
    ),
    Row("fail: insertion with no context nor anchor", "a\n", "+b\n", error="no context lines"),
    Row("fail: hunks out of order", "a\nb\nc\n", "@@\n-c\n+C\n@@\n-a\n+A\n", error="hunk 2 of 2"),
    Row(
        "fail: a line that belongs to no hunk", "a\n", " a\nnot a diff line\n", error="is not part of a hunk"
    ),
    Row("fail: only context", "a\n", " a\n", error="changes nothing"),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_patch_table(row: Row) -> None:
    if row.error is not None:
        with pytest.raises(PatchFailed) as info:
            if row.create:
                create_content(row.diff)
            else:
                apply_v4a(row.before or "", row.diff)
        assert row.error in str(info.value)
        return
    if row.create:
        assert create_content(row.diff) == row.after
    else:
        assert apply_v4a(row.before or "", row.diff) == row.after


def test_the_table_is_large_enough() -> None:
    assert len(ROWS) >= 25
    assert sum(1 for r in ROWS if r.error) >= 8


def test_a_failure_shows_expected_and_found_lines() -> None:
    diff = "@@ def add(a, b):\n-    return a  - b\n+    return a + b\n"
    with pytest.raises(PatchFailed) as info:
        apply_v4a(CALC, diff)
    message = str(info.value)
    assert "Expected (context and '-' lines, in order):\n  |    return a  - b" in message
    assert "2 |    return a - b" in message  # the closest text, with the file's line number


def test_move_to_is_parsed() -> None:
    parsed = parse_v4a("*** Move to: pkg/new.py\n@@\n-a\n+b\n")
    assert parsed.move_to == "pkg/new.py" and len(parsed.hunks) == 1
    assert parse_v4a("*** Move to: other.py\n").hunks == []
