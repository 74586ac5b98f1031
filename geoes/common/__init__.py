"""Small rules every layer shares: atomic writes and the reference data files.

The bottom of the pipeline (common → sources → register → dataset → publish → web, cli): nothing here
imports another layer of geoes.
"""
