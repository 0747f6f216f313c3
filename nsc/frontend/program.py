"""The program description: what the front-end hands to every later stage.

A `Signature` says what a surrogate of the target function computes (NOTES.md section 2): its input columns
(with ranges) and output columns, in order. It is stored as JSON in every surrogate's ONNX metadata
(`nsc.signature`), so it must round-trip through `to_json`/`from_json` exactly.

A `Program` adds what the later stages need from the source: the text to compile natively (execute/),
the canonical tokens to read (compiler/), and the headers it read (for `nsc compile -MD`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

# Canonical scalar C types after typedef resolution (the harness converts to and from double), and the values each
# integer type holds on LP64: part of what a valid signature is, defined once with the rest of it in
# nsc_runtime.metadata, which checks every surrogate's signature on load.
from nsc_runtime.metadata import FLOAT_TYPES, INTEGER_LIMITS, INTEGER_TYPES, SCALAR_TYPES  # noqa: F401 - re-exported


@dataclass(frozen=True)
class Port:
    """One scalar column of the surrogate: an input or an output.

    name:  the column name used in CSV headers and on the command line: ``x``, ``a[2]``, ``return``, ``p``;
           the output of a parameter that is read and written is primed (``p'``, ``a[2]'``), so names are unique.
    param: the C parameter it belongs to, or ``return``.
    index: the element index for array parameters (``a[2]`` -> 2), else None.
    ctype: the canonical scalar C type (one of SCALAR_TYPES).
    lo, hi: the sampling range (inputs only; None for outputs).
    """

    name: str
    param: str
    index: int | None
    ctype: str
    lo: float | None = None
    hi: float | None = None

    @property
    def is_integer(self) -> bool:
        return self.ctype in INTEGER_TYPES

    def to_json(self) -> dict:
        d = {"name": self.name, "param": self.param, "index": self.index, "ctype": self.ctype}
        if self.lo is not None:
            d["lo"], d["hi"] = self.lo, self.hi
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Port":
        return cls(d["name"], d["param"], d.get("index"), d["ctype"], d.get("lo"), d.get("hi"))


@dataclass(frozen=True)
class Param:
    """One parameter of the target function, as the harness must pass it.

    shape:   None for a plain scalar passed by value; N for an array or a pointer to N elements
             (a scalar pointer ``double *p`` has shape 1 and is_pointer True).
    reads / writes: whether the function reads / writes the pointed-to values (by-value scalars: reads only).
    """

    name: str
    ctype: str
    shape: int | None = None
    is_pointer: bool = False
    is_const: bool = False
    reads: bool = True
    writes: bool = False

    def to_json(self) -> dict:
        return {"name": self.name, "ctype": self.ctype, "shape": self.shape, "is_pointer": self.is_pointer,
                "is_const": self.is_const, "reads": self.reads, "writes": self.writes}

    @classmethod
    def from_json(cls, d: dict) -> "Param":
        return cls(d["name"], d["ctype"], d.get("shape"), d.get("is_pointer", False), d.get("is_const", False),
                   d.get("reads", True), d.get("writes", False))


@dataclass(frozen=True)
class Signature:
    """What a surrogate computes: inputs (with ranges) and outputs, each in column order. state: the file-scope
    variables the function writes, which the harness resets before every call (frontend/state.py)."""

    function: str
    return_ctype: str | None  # None for void
    params: tuple[Param, ...]
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    state: tuple[str, ...] = ()

    @property
    def n_in(self) -> int:
        return len(self.inputs)

    @property
    def n_out(self) -> int:
        return len(self.outputs)

    @property
    def input_names(self) -> list[str]:
        return [p.name for p in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [p.name for p in self.outputs]

    def ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi) float64 arrays of shape [n_in]."""
        lo = np.array([p.lo for p in self.inputs], dtype=np.float64)
        hi = np.array([p.hi for p in self.inputs], dtype=np.float64)
        return lo, hi

    def integer_inputs(self) -> np.ndarray:
        """Boolean mask [n_in]: inputs that take integer values."""
        return np.array([p.is_integer for p in self.inputs], dtype=bool)

    def to_json(self) -> dict:
        return {
            "function": self.function,
            "return_ctype": self.return_ctype,
            "params": [p.to_json() for p in self.params],
            "inputs": [p.to_json() for p in self.inputs],
            "outputs": [p.to_json() for p in self.outputs],
            **({"state": list(self.state)} if self.state else {}),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_json(cls, d: dict) -> "Signature":
        return cls(
            d["function"], d.get("return_ctype"),
            tuple(Param.from_json(p) for p in d["params"]),
            tuple(Port.from_json(p) for p in d["inputs"]),
            tuple(Port.from_json(p) for p in d["outputs"]),
            tuple(d.get("state", ())),
        )

    @classmethod
    def loads(cls, text: str) -> "Signature":
        return cls.from_json(json.loads(text))


@dataclass(frozen=True)
class Token:
    """One canonical token of the program text (see frontend/tokens.py).

    text:  the canonical spelling: keywords, operators and punctuation as written; parameters renamed
           ``p0``.. in parameter order; locals ``v0``..; helper functions ``f0``..; file-scope variables and
           constants ``g0``..; math.h functions and types keep their names; numeric literals are ``<num>``.
           Also (see frontend/canonical.py): the target itself is ``target``, helpers' parameters ``q0``..,
           labels ``l0``.., struct/union/enum tags ``s0``.., members ``m0``.., non-scalar typedefs ``t0``..;
           string literals are ``<str>``; an initialiser list longer than 16 elements keeps its first 16 and
           then ``<more>``.
    value: the numeric value for ``<num>`` tokens (float); for ``<more>`` the full length of the list; else
           None.
    """

    text: str
    value: float | None = None


@dataclass
class Program:
    """A C program with its chosen target function, ready for sampling and compiling.

    path:         the file as the user named it (used in diagnostics).
    source:       the file's text, as read.
    sha256:       hex digest of the file's bytes.
    signature:    the target function's signature, ranges resolved.
    include_dirs: -I directories, for the native harness compile.
    defines:      -D NAME=VAL pairs, for the native harness compile.
    headers:      every header file the preprocessor read (spelled as cc found it), for make depfiles.
    tokens:       canonical tokens of the target function and everything it reaches (helpers first, target last).
    code:         the canonical top-level definitions the tokens print (canonical.py), for nsc/analysis/.
    analyses:     what nsc/analysis/ has computed from the code, by name (it caches there; see its __init__).
    notes:        the front-end's warnings about the program (state kept between calls: frontend/state.py).
    """

    path: str
    source: str
    sha256: str
    signature: Signature
    include_dirs: tuple[str, ...] = ()
    defines: tuple[tuple[str, str], ...] = ()
    headers: tuple[str, ...] = ()
    tokens: tuple[Token, ...] = field(default_factory=tuple)
    code: tuple = ()
    analyses: dict = field(default_factory=dict, repr=False, compare=False)
    notes: tuple[str, ...] = ()

    @property
    def function(self) -> str:
        return self.signature.function
