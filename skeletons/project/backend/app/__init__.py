"""The backend application package (Quart)."""

__version__ = "0.1.0"
