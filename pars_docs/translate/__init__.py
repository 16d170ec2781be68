"""The translation workflow: a set's wording and its medicine words out to a PO catalog a
translator's tool reads (:mod:`.catalog`), and back into the translation files pars-docs
reads (:mod:`.files`), each text tied to a hash of the English it was made from."""
