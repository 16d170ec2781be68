"""The installed distribution's version, read once from its metadata."""

from importlib.metadata import version as _distribution_version

__version__ = _distribution_version("pars-docs")
