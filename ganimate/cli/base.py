"""The app and its command groups, and the one place where failures become ``error: ...`` lines
(:func:`guarded`), usage errors one line with exit 2, and the app-wide options (-q, -v,
--max-megapixels), which may be given anywhere on the line (:func:`hoist_global_options`).
"""

from __future__ import annotations

import functools
import sys
from contextlib import contextmanager

import typer
import typer.core

from ganimate import progress
from ganimate.errors import GanimateError
from ganimate.version import __version__


def examples(*lines: str, note: str = "") -> str:
    """A help epilog: ``note`` as a paragraph, then the example command lines kept verbatim
    (click's \\b marker stops it from re-wrapping them)."""
    head = f"{note}\n\n" if note else ""
    return head + "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


# click's exceptions, wherever typer takes click from (its own vendored copy in typer >= 0.2x, the
# click package before): UsageError is BadParameter's base, NoArgsIsHelpError its neighbour.
_UsageError = typer.BadParameter.__mro__[1]
_NoArgsIsHelp = getattr(sys.modules[_UsageError.__module__], "NoArgsIsHelpError", ())


class _OneLineUsageError(_UsageError):
    """A usage error (unknown option, missing argument, bad value) as one line on stderr, like
    every other error, but with click's exit code 2, so scripts can tell a mistyped command line
    from a failure of the work (exit 1)."""

    def __init__(self, original):
        super().__init__(original.format_message(), original.ctx)

    def show(self, file=None) -> None:
        where = f"; see '{self.ctx.command_path} --help'" if self.ctx is not None else ""
        message = " ".join(self.format_message().split()).rstrip(".")
        typer.echo(f"error: {message}{where}", err=True, file=file)


class _Group(typer.core.TyperGroup):
    """The app's click group: usage errors of any command below it leave as one line."""

    def make_context(self, info_name, args, parent=None, **extra):
        with _one_line_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx):
        with _one_line_usage_errors():
            return super().invoke(ctx)


@contextmanager
def _one_line_usage_errors():
    try:
        yield
    except _NoArgsIsHelp:
        raise  # `ganimate edit` alone shows its help, as asked
    except _UsageError as exc:
        if isinstance(exc, _OneLineUsageError):
            raise
        raise _OneLineUsageError(exc) from None


# rich_markup_mode=None: help text is plain, so "[eval]" or "[table on a terminal]" are shown as
# written instead of being eaten as rich markup.
app = typer.Typer(
    cls=_Group,
    name="ganimate",
    help="GANimation made practical: edit and animate facial expressions with Action Units. "
         "-q/--quiet, -v/--verbose and --max-megapixels may be given anywhere on the line.",
    epilog=examples("ganimate demo --quick",
                    "ganimate edit image photo.jpg -e happy -o happy.jpg",
                    "ganimate aus clip.mp4 -f csv > aus.csv"),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)
edit_app = typer.Typer(help="Edit the expression of photos.", no_args_is_help=True,
                       rich_markup_mode=None,
                       epilog=examples("ganimate edit image photo.jpg -e happy -o happy.jpg",
                                       "ganimate edit sweep photo.jpg --au AU12 -o grid.png"))
animate_app = typer.Typer(help="Animate expressions over time.", no_args_is_help=True,
                          rich_markup_mode=None,
                          epilog=examples("ganimate animate image face.jpg --to happy -o a.mp4",
                                          "ganimate animate video clip.mp4 -e happy -o b.mp4"))
eval_app = typer.Typer(
    help="Measure a model on a dataset, an edited video against its input, or an engine on "
         "photos.", no_args_is_help=True, rich_markup_mode=None,
    epilog=examples("ganimate eval model run data/faces",
                    "ganimate eval video clip.mp4 happy.mp4",
                    "ganimate eval photos neutral/ --reference smiling/ --au AU12=0.9"))
app.add_typer(edit_app, name="edit")
app.add_typer(animate_app, name="animate")
app.add_typer(eval_app, name="eval")


def fail(message: str) -> typer.Exit:
    """Print one clear error line on stderr; ``raise fail(...)`` exits with code 1."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def guarded(func):
    """The one place where failures become one line: GanimateError and OS errors (disk full,
    read-only, permissions) -> ``error: ...`` and exit 1; Ctrl-C -> ``error: interrupted`` and
    exit 130; a closed stdout (``| head``) ends the command quietly."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except GanimateError as exc:
            raise fail(str(exc)) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(code=0) from None
        except OSError as exc:
            from ganimate.files import os_error_message

            raise fail(os_error_message(exc)) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted (Ctrl-C); no partial output was left", err=True)
            raise typer.Exit(code=130) from None

    return wrapper


def _silence_stdout() -> None:
    """The reader of stdout has gone (``ganimate aus ... | head``): what it read is what it
    wanted, so stop quietly; point stdout at devnull so that the final flush cannot fail."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests)
        pass


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ganimate {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars, warnings only."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    max_megapixels: float = typer.Option(
        180.0, "--max-megapixels", min=1.0,
        help="Refuse images larger than this before decoding them (a guard against "
             "decompression bombs); raise it for a trusted huge photo."),
) -> None:
    from ganimate.images import set_max_pixels

    set_max_pixels(int(max_megapixels * 1e6))
    progress.set_enabled(not quiet)
    progress.install_log_handler(verbose=verbose)
    if quiet:
        progress.log.setLevel("WARNING")


_GLOBAL_FLAGS = ("-q", "--quiet", "-v", "--verbose")
_GLOBAL_VALUED = ("--max-megapixels",)


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move the app-wide options to the front so that they work anywhere on the line
    (``ganimate edit image a.jpg -e happy -o b.jpg -q``); ``--`` ends the search."""
    front, rest = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg in _GLOBAL_FLAGS or arg.split("=", 1)[0] in _GLOBAL_VALUED:
            front.append(arg)
            if arg in _GLOBAL_VALUED and i + 1 < len(argv):
                front.append(argv[i + 1])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest
