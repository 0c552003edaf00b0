"""Citeline: self-hosted question answering over your own documents, every claim cited."""

__version__ = "0.1.0"
