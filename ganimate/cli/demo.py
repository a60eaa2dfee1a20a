"""`ganimate demo`: what ganimate does, on a bundled photo and clip.
"""

from __future__ import annotations

import typer

from ganimate.cli.base import app, examples, guarded
from ganimate.cli.options import (
    DeviceOption,
)


@app.command("demo",
    epilog=examples("ganimate demo", "ganimate demo --quick --out /tmp/demo"))
@guarded
def demo_command(
    out: str = typer.Option("ganimate-demo", "--out", "-o",
                            help="Folder for the demo files (created; demo files replaced)."),
    quick: bool = typer.Option(False, "--quick",
                               help="A smaller demo: one expression, a one-row sweep, a short "
                                    "clip (for slow machines and tests)."),
    checkpoint: str | None = typer.Option(
        None, "--checkpoint", "-c",
        help="The generator shown beside the warp (compare.png, sweep_gan.png): an export, a "
             "training checkpoint or a run folder. Default: the model shipped in "
             "ganimate/model/weights/."),
    device: DeviceOption = "cpu",
) -> None:
    """Show what ganimate does on a bundled photo and video with the warp engine (no model):
    expression edits, an AU sweep grid, an animated photo and an edited video, plus the shipped
    generator and the hybrid beside the warp in compare.png. Prints the files written."""
    from ganimate import demo

    config = demo.DemoConfig.quick(device=device) if quick else demo.DemoConfig(device=device)
    result = demo.run_demo(out, config, checkpoint=checkpoint)
    if result.standin:
        typer.echo("note: the shipped model is a small CPU-trained stand-in, not the real demo "
                   "model: expect weak edits with colour fringes "
                   "(ganimate/model/weights/MODEL_CARD.md)",
                   err=True)
    for step in result.steps:
        if step.status == "ok":
            for path in step.paths:
                typer.echo(str(path))
        else:
            typer.echo(f"{step.status} {step.name}: {step.message}", err=True)
    typer.echo(f"demo files in {result.out} ({result.seconds:.0f} s, model {result.model.name}); "
               "media credits: ganimate/assets/demo/NOTICE.md", err=True)
    if not result.ok:
        raise typer.Exit(code=1)
