"""The engine stays plain Python: any host (Reflex or not) can import it headless."""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[1] / "personalization"


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_engine_never_imports_reflex():
    offenders = [
        str(path.relative_to(ENGINE.parent))
        for path in sorted(ENGINE.rglob("*.py"))
        if {"reflex", "reflex_base"} & _imported_roots(path)
    ]
    assert offenders == []


def test_boundary_check_sees_reflex_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom reflex.state import State\n")
    assert "reflex" in _imported_roots(sample)
