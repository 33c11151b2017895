"""OCDS pipeline: ingest → compile → flatten, writing Parquet tables under a warehouse directory.

This package never imports Django: it reads sources and writes Parquet; the `watch` app loads the
output into the application database.
"""
