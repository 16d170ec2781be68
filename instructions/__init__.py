"""Data only: the built-in instruction sets, the medicine table and their schemas.

Installed as ``pars_docs.instructions`` so that ``importlib.resources`` finds these files.
"""
