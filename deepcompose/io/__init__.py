"""Readers and writers, one module per file format; each builds or consumes a Song."""
