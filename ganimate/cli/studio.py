"""`ganimate studio`: the browser studio (:mod:`ganimate.studio`).
"""

from __future__ import annotations

import typer

from ganimate.cli.base import app, examples, guarded
from ganimate.cli.options import (
    CheckpointOption,
    DeviceOption,
    EngineOption,
)
from ganimate.studio import StudioConfig


@app.command("studio",
    epilog=examples("ganimate studio", "ganimate studio photo.jpg",
                    "ganimate studio clip.mp4 --port 8000 --no-browser"))
@guarded
def studio_command(
    media: str = typer.Argument(None, help="A photo or a clip to open (the page loads others)."),
    port: int = typer.Option(StudioConfig.port, "--port", min=0, max=65535,
                             help="Port on 127.0.0.1 (the studio listens on no other address); "
                                  "0 = any free port."),
    browser: bool = typer.Option(StudioConfig.browser, "--browser/--no-browser",
                                 help="Open the page in the default browser."),
    engine_name: EngineOption = None,
    checkpoint: CheckpointOption = None,
    device: DeviceOption = StudioConfig.device,
    keep: bool = typer.Option(StudioConfig.keep, "--keep",
                              help="Keep the studio's folder (uploads, outputs, keyframe files) "
                                   "when it stops; by default it is removed."),
) -> None:
    """A page in your browser: FACS sliders with a live preview on a photo, keyframes over a
    clip, and the `ganimate` command that reproduces each result. Ctrl-C stops it."""
    from ganimate import studio

    def ready(url, folder) -> None:
        typer.echo(f"studio on {url} (its files: {folder}); Ctrl-C stops it", err=True)
        typer.echo(url)

    engine = engine_name or ("gan" if checkpoint else StudioConfig.engine)  # as --engine says
    config = StudioConfig(media=media, port=port, browser=browser, engine=engine,
                          checkpoint=checkpoint, device=device, keep=keep)
    studio.serve(config, ready)
