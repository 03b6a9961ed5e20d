"""The dependency rules of DESIGN.md, read from the source: which package may import which, no
import circle inside `emergent/`, and experiment kinds that never import each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("emergent", "envs", "agents", "generative")
ALLOWED = {
    "emergent": {"emergent", "envs", "agents", "generative"},
    "agents": {"agents", "envs", "generative"},
    "envs": {"envs"},
    "generative": {"generative"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside functions (absolute names)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports."""
    modules = {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }
    return {
        name: {m for m in imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def test_packages_import_only_what_the_design_allows():
    wrong = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in targets
        if target.split(".")[0] not in ALLOWED[name.split(".")[0]]
    ]
    assert not wrong, wrong


def test_no_package_imports_experiments_or_tests():
    wrong = [
        f"{path.relative_to(ROOT)} imports {target}"
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        for target in imports(path)
        if target.split(".")[0] in ("experiments", "tests", "benchmarks")
    ]
    assert not wrong, wrong


def test_no_import_circle_inside_emergent():
    edges = {
        name: {t for t in targets if t.startswith("emergent")}
        for name, targets in graph().items()
        if name.startswith("emergent")
    }
    for module in edges:  # a package importing its own submodules is not a circle
        edges[module] = {t for t in edges[module] if not t.startswith(module + ".")}
    visiting, done, circles = set(), set(), []

    def visit(node: str, path: list[str]) -> None:
        if node in visiting:
            circles.append(" -> ".join([*path[path.index(node) :], node]))
            return
        if node in done:
            return
        visiting.add(node)
        for target in sorted(edges.get(node, ())):
            visit(target, [*path, node])
        visiting.discard(node)
        done.add(node)

    for module in sorted(edges):
        visit(module, [])
    assert not circles, circles


def test_kinds_never_import_each_other():
    wrong = []
    for name, targets in graph().items():
        parts = name.split(".")
        if parts[:2] != ["emergent", "kinds"] or len(parts) < 3 or parts[2] == "record":
            continue
        for target in targets:
            other = target.split(".")
            if other[:2] == ["emergent", "kinds"] and other[2:3] not in (
                [],
                [parts[2]],
                ["record"],
            ):
                wrong.append(f"{name} imports {target}")
    assert not wrong, wrong


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_package_loads_neither_ray_nor_sb3_nor_diffusers(package):
    code = (
        f"import sys, {package}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'ray', 'stable_baselines3', 'diffusers'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"
