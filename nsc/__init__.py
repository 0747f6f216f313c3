"""nsc: a neural surrogate compiler for numeric C functions."""

__version__ = "0.1.0"
