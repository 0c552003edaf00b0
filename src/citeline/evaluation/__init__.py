"""Retrieval evaluation on BEIR-format folders: loaders, IR metrics, and the `citeline eval` runner."""
