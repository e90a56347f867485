"""The import contracts of docs/architecture.md, checked by import-linter (pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = (
    "npu_site",
    "accounts",
    "parts",
    "creations",
    "scoring",
    "moderation",
    "community",
    "demo",
)
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=directory,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(directory)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_every_import_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    "module, wrong_import, broken",
    [
        ("creations/selectors.py", "from scoring.models import Score", "The core knows no feature"),
        (
            "parts/models.py",
            "from creations.models import Creation",
            "Catalogs sit beneath the core",
        ),
        ("scoring/services.py", "import moderation.models", "Features are independent"),
        ("community/services/comments.py", "import scoring.models", "Features are independent"),
        (
            "creations/models.py",
            "from community.models import Comment",
            "The core knows no feature",
        ),
        (
            "npu_site/caching.py",
            "from creations.models import Creation",
            "npu_site is configuration and infrastructure",
        ),
        ("creations/views.py", "import demo.pictures", "Only the demo app knows the demo app"),
    ],
)
def test_a_wrong_import_breaks_the_build(tmp_path, module, wrong_import, broken):
    code = copy_of_the_code(tmp_path)
    with open(code / module, "a") as source:
        source.write(f"\n{wrong_import}  # noqa\n")
    result = lint_imports(code)
    assert result.returncode == 1
    broken_line = next(line for line in result.stdout.splitlines() if line.startswith(broken))
    assert broken_line.endswith("BROKEN")
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> " in result.stdout
