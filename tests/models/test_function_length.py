"""No function in `tavis_hf/models/` is longer than 80 lines (a forward reads as named steps)."""

import ast
from pathlib import Path

import tavis_hf

MODELS = Path(tavis_hf.__file__).parent / "models"
LIMIT = 80


def test_no_model_function_is_longer_than_80_lines():
    long = []
    for path in sorted(MODELS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > LIMIT:
                    long.append(f"{path.relative_to(MODELS)}:{node.lineno} {node.name} ({length} lines)")
    assert long == []
