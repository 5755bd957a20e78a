"""``bitdust/main`` shows its parts: the engine core at the top, the rest in sub-packages by job.

A new module goes into the sub-package of its job (or a new one); only the core itself sits at the
top, so a reader finds the config, the service framework, the life cycle machines and the process
glue without reading 25 files side by side.
"""

from __future__ import annotations

from pathlib import Path

import bitdust.main

MAIN = Path(bitdust.main.__file__).parent

CORE = {"__init__", "collaborators", "engine", "errors", "events", "logs", "strict_json"}
SUB_PACKAGES = {
    "settings": {"config", "config_files", "config_watch", "config_options", "config_types", "network_config"},
    "service_framework": {"service", "service_children", "service_graph", "service_manager", "service_state"},
    "lifecycle": {"initializer", "shutdowner"},
    "process": {"api_secret", "fileutil", "home_lock", "malloc_tuning", "paths"},
}


def _modules(folder: Path) -> set[str]:
    return {path.stem for path in folder.glob("*.py") if not path.stem.endswith("_machine")}


def test_only_the_engine_core_sits_at_the_top_of_main() -> None:
    assert _modules(MAIN) == CORE


def test_each_sub_package_holds_the_modules_of_its_job() -> None:
    packages = {path.name for path in MAIN.iterdir() if (path / "__init__.py").exists()}
    assert packages == set(SUB_PACKAGES)
    for name, modules in SUB_PACKAGES.items():
        assert _modules(MAIN / name) - {"__init__"} == modules, name
        assert (MAIN / name / "__init__.py").read_text().startswith('"""'), f"{name} says what it holds"
