"""Every notebook in ``notebooks/`` runs from top to bottom.

The code cells are executed in-process, in order, in one namespace (no Jupyter kernel, no
socket), with matplotlib's non-interactive Agg backend. Notebooks assert what they claim, so a
notebook whose story stops being true fails here.
"""

import json
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    import matplotlib.pyplot as plt

    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: outputs must be stripped in git"
    monkeypatch.chdir(path.parent)
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    namespace = {"__name__": "__main__"}
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        exec(compile(source, f"{path.name}[cell {i}]", "exec"), namespace)
    plt.close("all")
