"""The installed distribution's version, read from its metadata (setup.cfg is the one place it
is written) when first asked for: the look-up costs a few hundredths of a second, which
`--help` and `list` need not pay."""

from __future__ import annotations

from functools import cache


@cache
def version() -> str:
    """The version of the installed pars-docs distribution."""
    from importlib.metadata import version as distribution_version

    return distribution_version("pars-docs")


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
