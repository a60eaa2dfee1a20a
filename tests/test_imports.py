"""The package's modules import each other without cycles (a lower room never imports a higher one).

The graph is built with ``ast`` from the source, so it sees every import the code can make, not
only those one run happens to execute. What counts as an edge A -> B (both modules of ganimate):

- ``import ganimate.B`` / ``from ganimate.B import x`` / ``from ganimate import B`` / relative
  forms, anywhere in A: at module level, inside functions (deferred imports are still a
  dependency: they only move the cycle from import time to call time), and under
  ``if TYPE_CHECKING:`` (an annotation is a dependency of the reader too);
- ``from ganimate import x`` where x is not a module is an edge to ``ganimate`` (the package's
  ``__init__``, which re-exports the Python API: near the top);
- a package's ``_EXPORTS`` table (``ganimate.lazy.lazy_exports``: submodule -> names, imported
  when first asked for) is an edge from the package to each submodule it names.

Not counted: ``importlib.import_module`` with a computed name, and modules outside ganimate.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ganimate"


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Dotted name -> file of every module of the package (``pkg/__init__.py`` is ``pkg``)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Dotted names an import statement may refer to (a module or ``module.attribute``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative: resolve against the importing module's package
        package = module.split(".")
        package = package if is_package else package[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    return [base] + [f"{base}.{a.name}" for a in node.names]


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (see the module docstring for what counts)."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _imported(node, module, is_package) + _lazy(node, module, is_package):
                # a module's own packages are imported before it: no edge, no new dependency
                if name in modules and name != module and not module.startswith(name + "."):
                    graph[module].add(name)
    return graph


def _lazy(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The submodules a package's ``_EXPORTS = {"sub": (...), ...}`` table will import."""
    if not (is_package and isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
            and any(isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in node.targets)):
        return []
    return [f"{module}.{k.value}" for k in node.value.keys if isinstance(k, ast.Constant)]


# The stages, lowest first: a module may import its own stage and lower ones, never a higher one
# (nor a sibling of the same rank). Packages are stages; the loose modules are the house's
# foundations (errors, files, images ...; video, a package, is one too) or its top (the commands'
# drivers). The package itself (``ganimate``) re-exports the Python API (``api``), so it sits near
# the top; the stages import its foundations (``lazy``, ``version``), never the package.
STAGES: list[set[str]] = [
    {"lazy", "version", "errors", "progress", "timing"},
    {"files", "runtime"},
    {"images"},
    {"video"},
    {"faces"},
    {"targets"}, {"model"},
    {"engines"}, {"training"},
    {"editing"}, {"au_table"},
    {"animation"}, {"evaluation"},
    {"demo"}, {"studio", "api"},
    {"ganimate"},
    {"cli"},
    {"__main__"},
]


def stage_of(module: str) -> str:
    """``ganimate.faces.mesh`` -> ``faces``; ``ganimate`` -> ``ganimate``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def stage_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The import graph with each stage (a package, or a loose module) as one node."""
    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        node = out.setdefault(stage_of(module), set())
        node.update(stage_of(t) for t in targets if stage_of(t) != stage_of(module))
    return out


def levels(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each node's floor: 1 for a node importing nothing, else 1 + the highest it imports."""
    memo: dict[str, int] = {}

    def level(node: str) -> int:
        if node not in memo:
            memo[node] = 1 + max((level(t) for t in graph[node]), default=0)
        return memo[node]

    return {node: level(node) for node in graph}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search, in sorted order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert {"ganimate.cli", "ganimate.faces.aus", "ganimate.model.bundled"} <= graph.keys()
    assert "ganimate.faces" in graph["ganimate.au_table"]  # the graph does see imports
    assert "ganimate.engines.warp" in graph["ganimate.engines"]  # and the lazy exports
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_stages_import_only_lower_stages_on_at_most_9_levels():
    graph = stage_graph(import_graph())
    rank = {name: i for i, stage in enumerate(STAGES) for name in stage}
    assert set(graph) == set(rank), "a stage is missing from STAGES: " + str(set(graph) ^ set(rank))
    upward = [f"{a} -> {b}" for a, targets in graph.items() for b in targets if rank[b] >= rank[a]]
    assert not upward, "imports of a higher (or sibling) stage: " + ", ".join(sorted(upward))
    floors = levels(graph)
    assert max(floors.values()) <= 9, floors


def test_the_cycle_finder_sees_deferred_and_relative_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from .sub import c\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from typing import TYPE_CHECKING\n"
                                      "if TYPE_CHECKING:\n    from ..a import x\n")
    graph = import_graph(pkg)
    assert graph["pkg.b"] == {"pkg.sub", "pkg.sub.c"} and graph["pkg.sub.c"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]
    (pkg / "sub" / "c.py").write_text("import os\n")
    assert find_cycle(import_graph(pkg)) is None


def test_the_cli_starts_without_the_heavy_libraries():
    """`ganimate --help` (and every command's start) must not pay for torch, OpenCV, mediapipe,
    scipy or numpy: each is imported by the command that needs it (issue 21: --help < 0.5 s;
    0.29 s on the 2-core dev VM)."""
    import subprocess
    import sys

    heavy = ("torch", "cv2", "mediapipe", "scipy", "numpy", "dlib", "PIL")
    code = ("import sys, ganimate.cli.entry; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"


def test_the_warp_path_loads_neither_torch_nor_pyplot():
    """`animate video` with the warp imports what its frames need and nothing else: no torch
    (1.9 s), and mediapipe without running matplotlib.pyplot (0.6 s of its 1 s import) or
    loading sounddevice's PortAudio (32-40 ms, for its audio tasks), while pyplot still works
    for whoever really plots."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from ganimate import animation, editing, engines\n"
        "from ganimate.faces import FaceTracker\n"
        "FaceTracker().close()\n"
        "engines.load_engine('warp')\n"
        "print('torch' in sys.modules, 'matplotlib.figure' in sys.modules,\n"
        "      '_sounddevice' in sys.modules)\n"
        "import matplotlib.pyplot as plt\n"
        "print(callable(plt.figure), 'matplotlib.figure' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False", "True", "True"], (out.stdout
                                                                              + out.stderr)


def test_each_stage_says_what_it_does_and_exports_what_exists():
    """A stage package's __init__ says in two lines what the stage does, and every name of its
    lazy export table is defined where the table says (a stale entry would fail only at run time,
    in whichever command first asks for it)."""
    import importlib

    packages = sorted(m for m, p in module_names().items() if p.name == "__init__.py"
                      and m != "ganimate")
    assert {"ganimate.faces", "ganimate.engines", "ganimate.animation"} <= set(packages)
    for name in packages:
        package = importlib.import_module(name)
        assert package.__doc__ and len(package.__doc__.strip().splitlines()) <= 2, name
        for submodule, names in package._EXPORTS.items():
            module = importlib.import_module(f"{name}.{submodule}")
            for attr in names:
                assert attr in vars(module), f"{name} exports {attr} from {submodule}: not there"
                assert getattr(package, attr) is getattr(module, attr)
        assert sorted(dir(package)) == sorted(n for ns in package._EXPORTS.values() for n in ns)


def test_no_file_over_600_lines_and_no_function_over_80():
    """The house's size limits (docs/architecture.md): a command's signature may be longer, its
    options are declared there, but its body stays under 30 lines."""
    too_long = []
    for module, path in module_names().items():
        source = path.read_text(encoding="utf-8")
        if len(source.splitlines()) > 600:
            too_long.append(f"{module}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            length = node.end_lineno - node.lineno + 1
            body = node.end_lineno - node.body[0].lineno + 1
            is_command = module.startswith("ganimate.cli.") and node.name.endswith("_command")
            if length > 80 and not (is_command and body < 30):
                too_long.append(f"{module}.{node.name}: {length} lines")
    assert not too_long, too_long
