"""Where the built-in instruction sets, templates, schemas and fonts live.

The data is found the way Python finds the package itself, through its import spec.
The top-level ``instructions/`` and ``templates/`` folders of a source checkout (where clinic
staff and translators look for them) are installed as the packages
``pars_docs.instructions`` and ``pars_docs.templates`` (``package_dir`` in ``setup.cfg``); an
editable install maps the same names to the checkout's folders.
"""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from pathlib import Path


@cache
def _folder(package: str) -> Path:
    # The package's folder as the import system finds it: the same answer as
    # importlib.resources.files() for a package of plain files (a wheel or a checkout), without
    # importing importlib.resources and zipfile at every start. A zipped install (which
    # setup.cfg does not allow) would be the only other case.
    spec = find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations or not Path(locations[0]).is_dir():
        raise FileNotFoundError(f"pars-docs needs {package} as plain files; reinstall the package")
    return Path(locations[0])


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
