"""The nurse's desk: ``pars-docs serve``, a local web page over the Python API.

app.py holds the routes, desk.py one handout from the form, packets.py a packet from an
upload (the batch runner in a child process), security.py who may connect and what the
browser may do, server.py the waitress server and its clean stop.
"""
