"""The front door: the way the command line and the listener reach the pipeline. A front
end parses what a person gave it and reports what comes back; a rule two front ends would
otherwise each keep lives here, once.

``inputs`` the site adjusted for one run, rows from any input with the code map, one
appointment from a feed, the newest revision of each booking; ``visits`` loose values → a
visit; ``outputs`` the engine that makes handouts and how they are named, written and filed;
``lists`` a batch run; ``checks`` what ``pars-docs check`` and ``list`` report. The desk
(``web/``) does not use it yet.
"""
