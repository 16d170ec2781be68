"""Render: the composed document and the plan become a PDF (:mod:`.pdf`), text, a JSON
timeline or a calendar.
"""
