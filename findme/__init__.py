"""FindMe: find every photo of a person among social-media posts."""

__version__ = "0.1.0"
