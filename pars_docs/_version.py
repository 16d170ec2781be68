"""The version of pars-docs: the one place it is written (setup.cfg reads it from here).

A literal rather than a look-up in the installed metadata, which costs a tenth of a second
at every start.
"""

__version__ = "0.1.0"
