"""Where the built-in instruction sets, templates, schemas and fonts live.

The data is found the way Python finds the package itself, through :mod:`importlib.resources`.
The top-level ``instructions/`` and ``templates/`` folders of a source checkout (where clinic
staff and translators look for them) are installed as the packages
``pars_docs.instructions`` and ``pars_docs.templates`` (``package_dir`` in ``setup.cfg``); an
editable install maps the same names to the checkout's folders.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _folder(package: str) -> Path:
    found = files(package)
    # Installed from a wheel or a checkout, the data are plain files; a zipped install (which
    # setup.cfg does not allow) would be the only other case.
    if not isinstance(found, Path):
        raise FileNotFoundError(f"pars-docs needs {package} as plain files; reinstall the package")
    return found


def package_dir() -> Path:
    """The ``pars_docs`` package: fonts, the built-in site profile and its schema."""
    return _folder("pars_docs")


def instructions_dir() -> Path:
    """The built-in instruction sets, the medicine table and their schemas."""
    return _folder("pars_docs.instructions")


def templates_dir() -> Path:
    """The built-in templates, date formats and calendar wording."""
    return _folder("pars_docs.templates")


def fonts_dir() -> Path:
    return package_dir() / "fonts"
