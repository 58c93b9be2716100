"""`python -m coa_audit`: the same program as the `coa-audit` command.

This folder is the `coa_audit` package itself (pyproject.toml maps it there); it holds only
this module, so `coa_audit` stays a namespace of the packages beside it."""

from coa_audit.cli.main import main

if __name__ == "__main__":
    main()
