"""The conda environment files list exactly the pyproject's dependencies for each process."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO


def pip_lines(name: str) -> set[str]:
    text = (REPO / name).read_text()
    # the packages are the entries of the `- pip:` list, indented six spaces
    return {m.group(1).strip() for m in re.finditer(r"^ {6}- (.+)$", text, re.MULTILINE)} - {"-e ."}


def test_conda_files_match_pyproject_groups() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = set(project["dependencies"])
    groups = project["optional-dependencies"]
    assert pip_lines("environment-web.yml") == base | set(groups["web"])
    assert pip_lines("environment-model.yml") == base | set(groups["model"])
    assert not any(d.startswith("tensorflow") for d in pip_lines("environment-web.yml"))
