"""The C front-end: C file -> `Program` (NOTES.md section 2).

    read (source.py) -> preprocess with stand-in headers (preprocess.py) -> parse (parse.py)
    -> nsc pragmas (pragmas.py) -> choose the target (select.py) -> what it reaches (reach.py, names.py)
    -> checks (checks.py) -> pointer use (access.py) -> signature (signature.py) + ranges (ranges.py)
    -> the canonical code (canonical.py) and its tokens (tokens.py)

What the code computes (data flow, the statistical linearisation, the structural network) is nsc/analysis/'s job,
which reads the Program's canonical code.

Public API: `load_program`, `load_programs` (several targets of one file, parsed once; load.py),
`parse_range_option`, `parse_bounds` (ranges.py). Every user error is an NscError.

The package imports its modules on first use (PEP 562): `nsc compile` starts the preprocessor
(preprocess.start_preprocessing) before the parser and the passes are imported, so cc runs while they load.
"""

__all__ = ["load_program", "load_programs", "parse_range_option", "parse_bounds"]

_HOMES = {"load_program": "load", "load_programs": "load", "parse_range_option": "ranges", "parse_bounds": "ranges"}


def __getattr__(name: str):
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"nsc.frontend.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'nsc.frontend' has no attribute {name!r}")
