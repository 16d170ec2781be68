"""Write: finished handouts reach files (never half-written), safe file names and FHIR
DocumentReferences.
"""
