"""Data only: the built-in handout and packet templates, date formats and calendar wording.

Installed as ``pars_docs.templates`` so that ``importlib.resources`` finds these files.
"""
