"""`python -m mockgw` and the `mockgw` command: the command-line interface (mockgw/cli.py)."""

from __future__ import annotations

import gc
import sys

SERVING = ("serve", "record")


def main() -> int:
    """Run the command line; a server starts without garbage collections (cli.py re-enables them once listening).

    Start-up imports a few hundred modules and builds the app: it allocates a lot and frees little, so the
    collector's passes over the growing heap found nothing worth their ~4 % of the instructions to the first answer.
    """
    if sys.argv[1:2] and sys.argv[1] in SERVING:
        gc.disable()
        from mockgw.core.yaml_import import import_yaml

        import_yaml()  # before anything imports PyYAML: its pure-Python reader's pattern compiled when first used
    from mockgw.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
