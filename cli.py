"""Run pars-docs from a source checkout without installing it: ``python cli.py make ...``.

Installed, the same command is ``pars-docs`` (or ``python -m pars_docs``).
"""

from pars_docs.cli import main

if __name__ == "__main__":
    main()
