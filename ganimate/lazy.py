"""Lazy exports (PEP 562) for the stage packages: a name is imported from its submodule when it
is first asked for, so each command loads only what it runs.
"""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]):
    """A stage package's ``__getattr__`` and ``__dir__`` (PEP 562) for ``exports`` (submodule ->
    the names other stages use): ``from ganimate.engines import WarpEngine`` imports
    ``engines.warp`` when first asked, not the generator's torch, so each command loads what it
    runs. ``tests/test_imports.py`` reads these tables as import arrows."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
