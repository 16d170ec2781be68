"""Compose: the plan and the wording become the composed document (XML) every renderer
reads.
"""
