"""Packaging: everything is in setup.cfg except the twistd plugin.

``twisted/plugins/bitdust_plugin.py`` must be shipped inside Twisted's own
``twisted.plugins`` namespace (without an ``__init__.py``) so that
``twistd bitdust`` finds it; setup.cfg cannot express that mix.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["bitdust", "bitdust.*"]) + ["twisted.plugins"],
    package_data={"twisted.plugins": ["bitdust_plugin.py"]},
)
