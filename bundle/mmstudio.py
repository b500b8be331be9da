"""Entry point of the packaged app (build.spec): the desktop studio, the CLI, and child roles.

`mmstudio` with no arguments opens the studio on the demo project; with arguments it is the
`mmstudio` command line. Two kinds of child process also start from this same executable:
multiprocessing helpers and workers (the image importer's pool) and bundled modules run as
`mmstudio -m MODULE` (the managed llama.cpp server, see core.frozen).
"""

import multiprocessing
import sys


def main() -> int:
    # First of all: a pool worker or forkserver started from this executable runs its job here
    # and exits, before any of the app's start-up.
    multiprocessing.freeze_support()
    from core import frozen

    frozen.restore_user_environment()
    code = frozen.run_bundled_module(sys.argv)
    if code is not None:
        return code
    from core.cli import main as cli_main

    return cli_main(sys.argv[1:] or ["gui"])


if __name__ == "__main__":
    sys.exit(main())
