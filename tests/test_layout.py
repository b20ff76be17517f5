"""The package layout stays a layered tree: no import circle, arrows pointing down.

Every import counts — at module level or deferred inside a function — except those under
``if TYPE_CHECKING:`` (they never run). A deferred import is no excuse for a circle; the one exception
is listed in ``DEFERRED_UPWARD`` with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREES = {"agentcore": ROOT / "agentcore", "agentcore.providers": ROOT / "providers",
         "agentcore.sandboxes": ROOT / "sandboxes"}

# Layers of the core package, lowest first. A module may import from its own layer or a lower one.
# `control` holds the declarations an Agent is made of (handoffs, verifiers, guardrails), so it sits
# below `agent`; `run` drives agents; `definitions` builds them from YAML; `cli` (and `ui`) is on top.
LAYERS: list[set[str]] = [
    {"agentcore.messages", "agentcore.errors", "agentcore.paths", "agentcore._compat", "agentcore.model",
     "agentcore.context", "agentcore.tools", "agentcore.events", "agentcore.registry",
     "agentcore.tracing", "agentcore.sessions", "agentcore.hosted", "agentcore.contextwin"},
    {"agentcore.control"},
    {"agentcore.agent", "agentcore.testing"},
    {"agentcore.run", "agentcore.mcp", "agentcore.providers", "agentcore.sandboxes"},
    {"agentcore"},  # the package's public surface re-exports from all of the above
    {"agentcore.definitions", "agentcore.durable"},  # durable: runs on DBOS workers, built from YAML
    {"agentcore.cli", "agentcore.ui"},  # agentcore ui: the web trace viewer, a CLI command
]

# (importer, imported): deliberate deferred imports that go up a layer.
DEFERRED_UPWARD = {
    # Agent.from_yaml(path) is a convenience over agentcore.definitions.agent_from_yaml.
    ("agentcore.agent", "agentcore.definitions"),
}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for prefix, folder in TREES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path) -> set[str]:
    """Project modules that ``name`` imports, resolved to the deepest existing module."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target and target not in MODULES:
            target = target.rsplit(".", 1)[0] if "." in target else ""
        if target and target != name and not name.startswith(target + "."):
            found.add(target)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    best, index = "", -1
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, index = prefix, i
    assert index >= 0, f"{module} belongs to no layer: add it to LAYERS in tests/test_layout.py"
    return index


def test_the_tree_was_found() -> None:
    assert "agentcore.run.loop" in MODULES and "agentcore.providers.openai.responses" in MODULES
    assert "agentcore.sandboxes.local.sandbox" in MODULES


def test_no_import_circle() -> None:
    graph = {m: {t for t in ts if (_top(m), _top(t)) not in DEFERRED_UPWARD} for m, ts in GRAPH.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def _top(module: str) -> str:
    """The LAYERS entry a module belongs to (the longest prefix that matches)."""
    matches = [p for layer in LAYERS for p in layer if module == p or module.startswith(p + ".")]
    return max(matches, key=len, default=module)


def test_arrows_point_down() -> None:
    upward = [
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        for t in targets
        if _layer(t) > _layer(m) and (_top(m), _top(t)) not in DEFERRED_UPWARD
    ]
    assert not upward, "imports that point up a layer:\n" + "\n".join(sorted(upward))


def test_the_core_never_imports_a_vendor_sdk() -> None:
    vendor = ("openai", "anthropic", "google", "docker", "e2b", "modal")
    offenders = []
    for name, path in MODULES.items():
        if name.startswith(("agentcore.providers", "agentcore.sandboxes")):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            offenders += [f"{name}: {n}" for n in names if n.split(".")[0] in vendor]
    assert not offenders, offenders


def test_no_module_is_too_long() -> None:
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > 650}
    assert not long, f"split these modules (over ~600 lines): {long}"


def test_old_module_paths_still_import() -> None:
    import importlib

    from agentcore._compat import OLD_PATHS

    for old, new in OLD_PATHS.items():
        if old.startswith("agentcore.sandboxes.") or old.startswith("agentcore.providers."):
            continue  # vendor SDKs: imported by their own suites
        assert importlib.import_module(old) is importlib.import_module(new)
