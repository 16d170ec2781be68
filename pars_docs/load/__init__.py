"""Load: find, read and check instruction sets, their translations, the medicine table
and the site profile.
"""
