"""The version of ganimate (pyproject.toml's), written into checkpoints and run folders."""

__version__ = "0.1.0"
