"""The `polclaims` command line: one module per command group, the Typer app assembled in `app`."""


def main() -> None:
    """The `polclaims` entry point (imported lazily: `pipeline.cli.app` loads every command group)."""
    from .app import main as _main

    _main()
