"""The front door: the way the command line, the listener and the desk reach the pipeline. A front
end parses what a person gave it and reports what comes back; a rule two front ends would
otherwise each keep lives here, once.

``inputs`` the site adjusted for one run, rows from any input with the code map, one
appointment from a feed, the newest revision of each booking; ``visits`` loose values → a
visit, or every field's problems at once; ``offers`` what a form offers for a set;
``outputs`` the engine that makes handouts and how they are named, written, filed and
printed; ``lists`` a batch run and a packet joined again; ``checks`` what ``pars-docs
check`` and ``list`` report.
"""
