"""The `ganimate` command line: one module per command group, thin commands over the library
(the only package that imports typer); failures leave as one ``error: ...`` line.
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other code uses (imported when first asked for)
_EXPORTS = {"entry": ("app", "fail", "guarded", "hoist_global_options", "main")}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
