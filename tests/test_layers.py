"""The code's layers, read from every import statement (those inside functions too): no import
circle, no section of the page importing another, nothing below the sections importing them,
and each package importing only what lies below it."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "explorer", "training", "vae_core", "i18n", "deploy", "benchmarks", "docs")
SECTIONS = "explorer.sections"
# What each package may import of the project's others (besides itself).
BELOW = {
    "i18n": set(),
    "vae_core": {"i18n"},
    "training": {"vae_core", "i18n"},
    "explorer": {"training", "vae_core", "i18n"},
    "app": {"explorer", "training", "vae_core", "i18n"},
    "deploy": {"training", "vae_core", "i18n"},
    "benchmarks": {"deploy", "explorer", "training", "vae_core", "i18n", "app"},
    "docs": {"benchmarks", "deploy", "explorer", "training", "vae_core", "i18n", "app"},
}
NO_STREAMLIT = ("vae_core", "training", "i18n")


def modules() -> dict[str, Path]:
    """Every module of the project's packages (tests apart) by its dotted name."""
    found = {}
    for path in REPO.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[0] not in PACKAGES:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> tuple[set[str], set[str]]:
    """The project's modules that module `name` imports (a package's submodule where the
    import names one), and the outside top-level packages it imports."""
    ours, outside = set(), set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in known:
                ours.add(target)
            elif target and not node_is_relative(node):
                outside.add(target.split(".")[0])
    ours.discard(name)
    return ours, outside


def node_is_relative(node: ast.AST) -> bool:
    return isinstance(node, ast.ImportFrom) and node.level > 0


def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    known = modules()
    edges, outside = {}, {}
    for name, path in known.items():
        edges[name], outside[name] = imported(name, path, known)
    return edges, outside


def section_of(name: str) -> str | None:
    """The section (a part of the page, under explorer/sections/) that module `name` is in."""
    parts = name.split(".")
    return ".".join(parts[:3]) if name.startswith(SECTIONS + ".") else None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_reader_finds_imports_inside_functions_and_relative_ones():
    edges, _ = graph()
    # app.py imports the sections at module level, explorer/server.py the board store
    # relatively, and a package's __init__ its own submodules.
    assert "explorer.sections.tour" in edges["app"]
    assert "explorer.board_store" in edges["explorer.server"]
    assert "explorer.sections.latent_plane.drawing" in edges["explorer.sections.latent_plane"]


def test_no_import_circle():
    assert cycles(graph()[0]) == []


def imports_where(rule) -> list[tuple[str, str]]:
    """Every import (module, module it imports) for which `rule(module, imported)` holds."""
    edges, _ = graph()
    return [(a, b) for a, targets in sorted(edges.items()) for b in sorted(targets) if rule(a, b)]


def package(name: str) -> str:
    return name.split(".")[0]


def test_no_section_imports_another():
    def crossing(a: str, b: str) -> bool:
        return bool(section_of(a) and section_of(b) and section_of(a) != section_of(b))

    assert imports_where(crossing) == []


def test_only_app_imports_the_sections():
    def upward(a: str, b: str) -> bool:
        into = b == SECTIONS or b.startswith(SECTIONS + ".")
        return into and not (a == "app" or a.startswith(SECTIONS + "."))

    assert imports_where(upward) == []


def test_each_package_imports_only_what_lies_below_it():
    def upward(a: str, b: str) -> bool:
        return package(b) != package(a) and package(b) not in BELOW[package(a)]

    assert imports_where(upward) == []


def test_nothing_but_the_tests_imports_the_tests():
    _, outside = graph()
    assert [name for name, packages in outside.items() if "tests" in packages] == []


def test_the_core_and_the_training_line_import_no_streamlit():
    _, outside = graph()
    found = [name for name, packages in outside.items() if "streamlit" in packages]
    assert [name for name in found if name.split(".")[0] in NO_STREAMLIT] == []
