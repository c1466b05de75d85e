"""The shape of the code: every function of the package and of the example scripts fits on a screen (at most 80
lines from its `def` to its last line, methods and nested functions included); long steps are named functions."""

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 80


def test_every_function_is_at_most_80_lines():
    paths = sorted((REPO_ROOT / "tavis_hf").rglob("*.py")) + sorted((REPO_ROOT / "examples").glob("*.py"))
    too_long = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert too_long == []
