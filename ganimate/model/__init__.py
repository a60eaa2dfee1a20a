"""The GANimation networks, their configs, checkpoints (safetensors + metadata, atomic) and
the generator weights shipped with the package.
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "bundled": ("resolve_checkpoint",),
    "checkpoint": (
        "LoadedGenerator",
        "checkpoint_path",
        "export_generator",
        "latest_checkpoint",
        "list_checkpoints",
        "load_generator",
        "load_optimizer_state",
        "optimizer_tensors",
        "remove_partial_writes",
        "restore_rng_state",
        "rng_state",
        "save_checkpoint",
    ),
    "config": ("ModelConfig", "TrainConfig"),
    "networks": ("Critic", "Generator", "GeneratorOutput", "compose"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
