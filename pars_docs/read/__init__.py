"""Read: the visit, from command-line values, appointment lists (CSV, TSV, JSON) and the
feeds of record systems (FHIR, HL7 v2).
"""
