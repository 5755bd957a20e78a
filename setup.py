"""Packaging: everything is in setup.cfg except what it cannot express.

``twisted/plugins/bitdust_plugin.py`` must be shipped inside Twisted's own
``twisted.plugins`` namespace (without an ``__init__.py``) so that
``twistd bitdust`` finds it. twistd finds plugins only by scanning the folders on ``sys.path`` for
``twisted/plugins/``, so an editable install must put a real folder holding that file on
``sys.path``: ``package_dir={"": "."}`` declares the checkout root as the source root, which makes
setuptools' default ("lenient") editable mode add the checkout to ``sys.path`` by a ``.pth`` file
(as ``compat`` mode does) instead of an import hook that twistd cannot see; ``strict`` mode links
the file into its own tree. tests/main/test_twistd_plugin.py checks each mode.

The state machine sources live at the repository root in ``automats/`` (the generator and
``make automats`` read them there), outside any package. An installed engine still needs them to
draw diagrams, so the build copies them into the package as ``bitdust/automats/sources/``;
:func:`bitdust.interface.api.automats.sources_dir` reads that copy when there is no checkout.
"""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: where the copy goes inside the build tree; keep in step with bitdust.interface.api.automats
SHIPPED_SOURCES = Path("bitdust", "automats", "sources")


class BuildPyWithMachineSources(build_py):
    """``build_py`` that also ships ``automats/*.md`` as package data of ``bitdust.automats``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's automats/ directly
            return
        sources = sorted((ROOT / "automats").glob("*.md"))
        if not sources:
            raise SystemExit(f"no state machine sources in {ROOT / 'automats'}: the package would draw no diagrams")
        target = Path(self.build_lib) / SHIPPED_SOURCES
        self.mkpath(str(target))
        for source in sources:
            self.copy_file(str(source), str(target / source.name))


setup(
    packages=find_packages(include=["bitdust", "bitdust.*"]) + ["twisted.plugins"],
    package_dir={"": "."},  # see the module docstring: keeps `twistd bitdust` working in editable installs
    package_data={"twisted.plugins": ["bitdust_plugin.py"]},
    cmdclass={"build_py": BuildPyWithMachineSources},
)
