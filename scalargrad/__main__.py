"""`python -m scalargrad`: the same as the `scalargrad` command."""

from scalargrad.cli import main

raise SystemExit(main())
