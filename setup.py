"""The build step that ships the start-up records inside the package (pars_docs/prebuild.py).

Everything else about the package is declared in setup.cfg.
"""

import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithRecords(build_py):
    """Lay out the package, then make the records a start would write for its own files
    (built-in sets, medicine table, templates, fonts) and ship them in it. An editable
    install runs from the checkout, whose files change: it uses the user's cache instead."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False) or self.dry_run:
            return
        env = {**os.environ, "PARS_DOCS_CACHE": "off", "PYTHONDONTWRITEBYTECODE": "1"}
        # Run in the laid-out package (the working folder comes first on the import path, before
        # PYTHONPATH, through which pip's isolated build environment is found).
        version = self.distribution.get_version()
        subprocess.run(
            [sys.executable, "-m", "pars_docs.prebuild", "pars_docs", version],
            cwd=self.build_lib,
            env=env,
            check=True,
        )


setup(cmdclass={"build_py": BuildWithRecords})
