"""Parsing, OCR, classification and figure extraction.

Every parser turns one file into the same :class:`extractors.model.Document`; everything
after parsing reads only that model.
"""
