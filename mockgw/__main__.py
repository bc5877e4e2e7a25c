"""`python -m mockgw` runs the command-line interface."""

from mockgw.cli import main

raise SystemExit(main())
