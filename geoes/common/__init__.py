"""Small rules every layer shares, one of each: atomic writes (atomic), what Excel reads and writes
(excel: the one reader of register files and the one rejects writer), Polish numbers and plural forms (polish), the reference data files (reference), text folding
for matching names (text), plain values out of pandas (values).

The bottom of the pipeline (common → sources → register → dataset → publish → web, cli): nothing here
imports another layer of geoes.
"""
