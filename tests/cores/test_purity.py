"""The pure cores import only the standard library, python-dateutil, OR-Tools and each other.

Read from the source, not from what happens to be imported: a Django import inside a function,
or behind `if TYPE_CHECKING`, is found too.
"""

import ast
import sys
from pathlib import Path

import pytest

CORES = Path(__file__).resolve().parents[2] / "cores"
ALLOWED = {"cores", "dateutil", "ortools"} | set(sys.stdlib_module_names)


def imported_modules(source: str) -> set[str]:
    """The top-level names of every module the source imports (relative imports as 'cores')."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("cores" if node.level else (node.module or "").split(".")[0])
    return found


MODULES = sorted(CORES.rglob("*.py"))


def test_the_cores_have_modules_to_check():
    names = {path.relative_to(CORES).as_posix() for path in MODULES}
    assert {"intervals.py", "slots.py", "calendar.py", "solver/offers.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(CORES).as_posix())
def test_a_core_module_imports_nothing_but_the_allowed(path: Path):
    foreign = imported_modules(path.read_text()) - ALLOWED
    assert not foreign, f"{path.relative_to(CORES)} imports {sorted(foreign)}"


def test_the_check_finds_django_wherever_it_is_imported():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from django.db import models\n"
        "def f():\n    import booking.models\n"
    )
    assert imported_modules(source) - ALLOWED == {"django", "booking"}
