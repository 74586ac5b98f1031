"""Small rules every layer shares: atomic writes, reference data files, text folding, Polish formatting,
plain values, and what office spreadsheets read and write (`excel`).

The bottom of the pipeline (common → sources → register → dataset → publish → web, cli): nothing here
imports another layer of geoes.
"""
