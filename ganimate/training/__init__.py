"""The other path: datasets from photos and videos (prepare), reading them, the synthetic set,
the losses and the trainer (optimisers, AMP, DDP, schedules).
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "config": ("PrepareConfig", "SyntheticConfig"),
    "dataset": ("open_dataset",),
    "synthetic": ("SYNTHETIC_AUS", "make_synthetic_dataset", "measure"),
    "trainer": ("train",),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
