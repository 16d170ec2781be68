"""The nurse's desk: ``pars-docs serve``, a local web page over the Python API.

app.py builds the application; routes/ holds its pages, one module per area (see its
docstring), sharing state.py; desk.py makes one handout from the form, packets.py a packet
from an upload (the batch runner in a child process), today.py keeps today's handouts,
schedule.py reads the site's FHIR schedule, editor.py edits the clinic's sets, security.py
says who may connect and what the browser may do, server.py runs the waitress server and
stops it cleanly.
"""
