"""The package's layering (README, "Layout"): imports run one way, from the estimators down --
``_validation``/``_design``/``_groups``/``_arrays`` < ``losses``, ``penalties`` < ``solvers`` <
``paths`` < ``linear_model``, ``neural_network`` -- and the lower layers import in a fresh
interpreter on their own (no hidden dependence on a package import order)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "hadasparse"
LAYER = {"_validation": 0, "_design": 0, "_groups": 0, "_arrays": 0, "losses": 1,
         "penalties": 1, "solvers": 2, "paths": 3, "linear_model": 4, "neural_network": 4,
         "plotting": 5, "__main__": 6}


def _layer(module):
    parts = module.split(".")[1:]
    return LAYER.get(parts[0], 9) if parts else 9


def _imports(path):
    module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    package = module.removesuffix(".__init__") if path.name == "__init__.py" else (
        module.rsplit(".", 1)[0])
    module = module.removesuffix(".__init__")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            yield module, ".".join(base + ([node.module] if node.module else []))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hadasparse"):
            yield module, node.module


def test_no_module_imports_a_layer_above_it():
    upward = [(m, t) for f in sorted(ROOT.rglob("*.py")) for m, t in _imports(f)
              if m != "hadasparse" and _layer(t) > _layer(m)]
    assert upward == [("hadasparse.__main__", "hadasparse")], upward


@pytest.mark.parametrize("module", ["hadasparse._validation", "hadasparse._design",
                                    "hadasparse._arrays",
                                    "hadasparse._groups", "hadasparse.losses",
                                    "hadasparse.penalties", "hadasparse.solvers",
                                    "hadasparse.paths"])
def test_lower_layers_import_on_their_own(module):
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          text=True, cwd=ROOT.parent, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
