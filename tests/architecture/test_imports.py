"""The import graph of the installed package: no cycle, rules on the domain only, a domain that imports no stage.

The graph is read from the source with ``ast`` (nothing is imported), laid out as the wheel installs it
(rules/ as ``auditor.rules``, report_templates/ as ``auditor.report_templates``). Every import counts, at
module level and inside functions: a function-level import only postpones a cycle. Only the bodies of
``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Folder of the repository -> the package it is installed as (pyproject.toml's package-dir).
LAYOUT: dict[str, Path] = {
    "auditor": ROOT / "auditor",
    "auditor.rules": ROOT / "rules",
    "auditor.report_templates": ROOT / "report_templates",
}

DOMAIN = frozenset({"auditor.config", "auditor.evidence", "auditor.results", "auditor.redact"})
RULES = "auditor.rules"
# auditor.parallel (threads, forked workers, forked_map) imports nothing of the project: the engine and the
# tenant loader share it, so it is a tool of both rather than a stage.
ENGINE = ("auditor.collect", "auditor.evaluate", "auditor.audit")
RENDERERS = ("auditor.render", "auditor.checklist")
COMMANDS = ("auditor.commands", "auditor.cli", "auditor.app",  # the application layer and the edge
            "auditor.mail", "auditor.history", "auditor.waivers", "auditor.onboard")
APPLICATION = "auditor.app"
EDGE = ("auditor.commands", "auditor.cli", "auditor.__main__")
GUIDE = "auditor.rules.guide"  # the setup guide's facts (hosts, events, prefixes): a renderer may print them

Graph = dict[str, set[str]]


def project_modules(layout: Mapping[str, Path] = LAYOUT) -> dict[str, Path]:
    """Every module of the installed package -> its source file (a package's name is its __init__.py)."""
    modules: dict[str, Path] = {}
    for package, folder in layout.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if "__pycache__" in parts or any(f"{package}.{'.'.join(parts[:i])}" in layout
                                             for i in range(1, len(parts))):
                continue  # a sub-folder installed as a package of its own is read under that name
            name = ".".join((package, *parts))
            modules[name.removesuffix(".__init__")] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement, however deeply nested, except inside ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


# "auditor.render.table:TableRenderer": a lazy registry's entry, imported by name (importlib) when it is used.
_LAZY_ENTRY = re.compile(r"^(auditor(?:\.[A-Za-z_]\w*)+):[A-Za-z_]\w*$")


def _lazy_names(tree: ast.AST) -> Iterable[str]:
    """Modules imported by name: ``importlib.import_module("x")`` and registry entries ``"x:attr"``.

    The format registry and the command table import their modules with ``importlib``; such an
    import postpones a cycle as a function-level import does, so it counts as the module's own import.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (m := _LAZY_ENTRY.match(node.value)):
            yield m.group(1)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            yield node.args[0].value


def imported_names(module: str, path: Path) -> set[str]:
    """The absolute names a module imports: ``from .x import y`` gives ``<package>.x`` and ``<package>.x.y``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set(_lazy_names(tree))
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{anchor}.{base}" if base else anchor
        names.add(base)
        names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _resolve(name: str, modules: Iterable[str]) -> str | None:
    """The project module a name lives in (the longest module prefix), or None for a third-party name."""
    known = set(modules)
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph(layout: Mapping[str, Path] = LAYOUT) -> Graph:
    """Module -> the project modules it imports (self-imports left out)."""
    modules = project_modules(layout)
    graph: Graph = {}
    for module, path in modules.items():
        targets = {_resolve(name, modules) for name in imported_names(module, path)}
        graph[module] = {t for t in targets if t is not None and t != module}
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None when the graph is acyclic (depth-first search)."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph.get(node, ())):
            if target in on_path:
                return path[path.index(target):] + [target]
            if target not in done and (cycle := visit(target)) is not None:
                return cycle
        on_path.discard(path.pop())
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (cycle := visit(start)) is not None:
            return cycle
    return None


def within(module: str, prefixes: Iterable[str]) -> bool:
    """True when ``module`` is one of ``prefixes`` or inside one of them."""
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(graph: Mapping[str, Iterable[str]], importers: Callable[[str], bool],
               allowed: Callable[[str], bool]) -> list[str]:
    """Every edge ``importer -> target`` where the importer is selected and the target is not allowed."""
    return [f"{source} -> {target}" for source in sorted(graph) if importers(source)
            for target in sorted(graph[source]) if not allowed(target)]


def rule_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Rules may import the domain types and the rule package itself, nothing else of the project."""
    return violations(graph, lambda m: within(m, [RULES]), lambda t: t in DOMAIN or within(t, [RULES]))


def domain_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """The domain imports no rule, no engine stage, no renderer and nothing of the application layer."""
    forbidden = (RULES, *ENGINE, *RENDERERS, *COMMANDS)
    return violations(graph, lambda m: m in DOMAIN, lambda t: not within(t, forbidden))


def renderer_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Renderers work from a RunResult: no rule logic (the guide's facts aside), no engine, no application layer."""
    forbidden = (*ENGINE, *COMMANDS)
    return violations(graph, lambda m: within(m, RENDERERS),
                      lambda t: not within(t, forbidden) and (t == GUIDE or not within(t, [RULES])))


def engine_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """The engine hands a RunResult on: it imports no renderer and nothing of the application layer or the edge."""
    return violations(graph, lambda m: within(m, ENGINE), lambda t: not within(t, (*RENDERERS, *COMMANDS)))


def application_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """The application layer is plain functions: it never reaches back into the click edge."""
    return violations(graph, lambda m: within(m, [APPLICATION]), lambda t: not within(t, EDGE))


# --- the project -------------------------------------------------------------------------------------------------

GRAPH = import_graph()

def test_the_graph_covers_the_installed_package() -> None:
    """Guards the checks below against an empty or misread graph (which would pass them all)."""
    assert {"auditor.evaluate", "auditor.rules", "auditor.rules.keys", "auditor.collect.stripe_api",
            "auditor.commands.run", *DOMAIN} <= set(GRAPH)
    assert "auditor.rules.base" in GRAPH["auditor.rules.keys"]
    assert "auditor.rules" in GRAPH["auditor.evaluate"]


def test_the_project_has_no_import_cycle() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_rules_import_only_the_domain_and_themselves() -> None:
    assert rule_violations(GRAPH) == []


def test_the_domain_imports_no_rule_engine_renderer_or_command() -> None:
    assert domain_violations(GRAPH) == []


def test_renderers_need_only_the_results() -> None:
    assert renderer_violations(GRAPH) == []


def test_the_engine_imports_no_renderer_and_no_application_layer() -> None:
    assert engine_violations(GRAPH) == []


def test_the_application_layer_stays_below_the_click_edge() -> None:
    assert application_violations(GRAPH) == []
    modules = project_modules()
    with_click = sorted(m for m in modules if within(m, [APPLICATION])
                        and any(within(n, ["click"]) for n in imported_names(m, modules[m])))
    assert with_click == [], "click belongs to auditor/commands and auditor/cli"


# --- the checker itself: each check fails where it must ----------------------------------------------------------

def test_a_cycle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None


def test_the_old_cycle_through_a_function_level_import_would_be_found() -> None:
    graph = {"auditor.evaluate": {"auditor.rules"}, "auditor.rules": {"auditor.rules.keys"},
             "auditor.rules.keys": {"auditor.evaluate"}}
    assert find_cycle(graph) == ["auditor.evaluate", "auditor.rules", "auditor.rules.keys", "auditor.evaluate"]


def test_a_rule_importing_the_engine_or_a_renderer_is_reported() -> None:
    graph = {"auditor.rules.keys": {"auditor.evaluate", "auditor.rules.base", "auditor.evidence"},
             "auditor.rules.base": {"auditor.render.view", "auditor.config"}}
    assert rule_violations(graph) == ["auditor.rules.base -> auditor.render.view",
                                      "auditor.rules.keys -> auditor.evaluate"]


def test_a_domain_module_importing_a_rule_or_a_stage_is_reported() -> None:
    graph = {"auditor.results": {"auditor.rules.base", "auditor.evidence"},
             "auditor.config": {"auditor.commands.run", "auditor.collect.stripe_api", "auditor.redact"},
             "auditor.evaluate": {"auditor.rules"}}
    assert domain_violations(graph) == ["auditor.config -> auditor.collect.stripe_api",
                                        "auditor.config -> auditor.commands.run",
                                        "auditor.results -> auditor.rules.base"]


def test_function_level_and_relative_imports_count_and_type_checking_ones_do_not(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (tmp_path / "extra").mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import hidden\nelse:\n    import json\n"
        "def late():\n    from .sub import b\n    return b\n")
    (package / "hidden.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from ..a import late\n")
    (package / "sub" / "b.py").write_text("class C:\n    def m(self):\n        import pkg.extra.x\n")
    (tmp_path / "extra" / "x.py").write_text("from .. import a\n")
    layout = {"pkg": package, "pkg.extra": tmp_path / "extra"}
    assert set(project_modules(layout)) == {"pkg", "pkg.a", "pkg.hidden", "pkg.sub", "pkg.sub.b", "pkg.extra.x"}
    graph = import_graph(layout)
    assert graph["pkg.a"] == {"pkg.sub", "pkg.sub.b"}  # not pkg.hidden: only under TYPE_CHECKING
    assert graph["pkg.sub"] == {"pkg.a"}
    assert graph["pkg.sub.b"] == {"pkg.extra.x"}
    assert graph["pkg.extra.x"] == {"pkg", "pkg.a"}  # relative to where it is installed, not to its folder
    assert find_cycle(graph) == ["pkg.a", "pkg.sub", "pkg.a"]


def test_a_renderer_asking_the_rules_or_the_engine_is_reported() -> None:
    graph = {"auditor.render.triage": {"auditor.rules", "auditor.results"},
             "auditor.checklist": {"auditor.rules.guide", "auditor.rules.endpoints"},
             "auditor.render.pdf": {"auditor.evaluate", "auditor.app.fleet"}}
    assert renderer_violations(graph) == ["auditor.checklist -> auditor.rules.endpoints",
                                          "auditor.render.pdf -> auditor.app.fleet",
                                          "auditor.render.pdf -> auditor.evaluate",
                                          "auditor.render.triage -> auditor.rules"]


def test_upward_imports_of_the_engine_and_the_application_layer_are_reported() -> None:
    graph = {"auditor.audit": {"auditor.render.json", "auditor.rules"}, "auditor.app.fleet": {"auditor.commands.run"}}
    assert engine_violations(graph) == ["auditor.audit -> auditor.render.json"]
    assert application_violations(graph) == ["auditor.app.fleet -> auditor.commands.run"]


def test_imports_by_name_count(tmp_path: Path) -> None:
    """A registry's "module:attr" entries and importlib.import_module("...") are imports of that module."""
    package = tmp_path / "auditor"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "registry.py").write_text(
        "import importlib\nENTRIES = {'a': 'auditor.plugin:Plugin'}\n"
        "def load(name):\n    module, _, attr = ENTRIES[name].partition(':')\n"
        "    return getattr(importlib.import_module(module), attr)\n"
        "def other():\n    return importlib.import_module('auditor.other')\n")
    (package / "plugin.py").write_text("from auditor.registry import ENTRIES\nclass Plugin: ...\n")
    (package / "other.py").write_text("")
    graph = import_graph({"auditor": package})
    assert graph["auditor.registry"] == {"auditor.plugin", "auditor.other"}
    assert find_cycle(graph) == ["auditor.plugin", "auditor.registry", "auditor.plugin"]


def test_the_lazy_tables_are_read() -> None:
    """The format registry and the command table are edges of the graph (their modules are imported by name)."""
    assert {"auditor.render.table", "auditor.render.pdf"} <= GRAPH["auditor.render"]
    assert {"auditor.commands.run", "auditor.commands.report"} <= GRAPH["auditor.cli"]
