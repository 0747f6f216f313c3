"""Generated C: the call stubs that connect the harness runtime to the user's function(s).

The generated unit `#include`s the user's ORIGINAL file by absolute path, so that the real system headers are
used, static and inline functions are callable, and the file's own relative `#include "..."` lines resolve.
The unit is compiled with `-Dmain=nsc__user_main`, so a `main` in the user's file does not clash with the
runtime's. Every identifier the unit adds starts with `nsc__`.

One stub per (function, signature): `void nsc__call_K(const double *in, double *out)` converts one row of
float64 inputs (Signature.inputs order) to the parameter types, calls the function, and writes the outputs
(Signature.outputs order: the return value, then the written pointer/array parameters) as float64. The table
`nsc__stubs[]` is the dispatch the runtime indexes with the batch's function id.
"""

from __future__ import annotations

from nsc.errors import NscError
from nsc.frontend.program import FLOAT_TYPES, INTEGER_TYPES, Param, Signature

UNSIGNED_TYPES = frozenset(t for t in INTEGER_TYPES if t.startswith("unsigned"))


def c_string_literal(text: str) -> str:
    """A C string literal for a file path."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def convert_input(ctype: str, value: str) -> str:
    """C expression converting the double `value` to `ctype`.

    Integer inputs are integer-valued doubles already; unsigned targets go through long long so that a negative
    value wraps as it would in C instead of being undefined behaviour.
    """
    if ctype in FLOAT_TYPES:
        return f"({ctype}){value}"
    if ctype == "_Bool":
        return f"({value} != 0.0)"
    if ctype in UNSIGNED_TYPES:
        return (f"({ctype})({value} < 0.0 ? (unsigned long long)(long long){value} "
                f": (unsigned long long){value})")
    if ctype in INTEGER_TYPES:
        return f"({ctype})(long long){value}"
    raise NscError(f"the harness cannot pass values of type '{ctype}'")


def _param_local(k: int) -> str:
    return f"nsc__a{k}"


def _param_length(param: Param) -> int:
    return param.shape if param.shape is not None else 1


def call_stub(stub_name: str, signature: Signature) -> str:
    """C source of one stub: locals for the parameters, the call, the outputs."""
    params = {p.name: (k, p) for k, p in enumerate(signature.params)}
    lines = [f"static void {stub_name}(const double *nsc__in, double *nsc__out) {{"]

    # File-scope state the function writes: saved at the first call, put back before every later one, so each
    # sample is one call from the program's initial state (frontend/state.py).
    if signature.state:
        lines.append("    static int nsc__saved = 0;")
        for j, name in enumerate(signature.state):
            lines.append(f"    static unsigned char nsc__state_{j}[sizeof({name})];")
            lines.append(f"    if (nsc__saved) __builtin_memcpy((void *)&{name}, nsc__state_{j}, sizeof({name}));")
            lines.append(f"    else __builtin_memcpy(nsc__state_{j}, (const void *)&{name}, sizeof({name}));")
        lines.append("    nsc__saved = 1;")

    # Locals: by-value scalars and zero-initialised arrays for pointer/array parameters.
    for k, p in enumerate(signature.params):
        local = _param_local(k)
        if p.shape is None and not p.is_pointer:
            lines.append(f"    {p.ctype} {local} = 0;")
        else:
            lines.append(f"    {p.ctype} {local}[{_param_length(p)}] = {{0}};")

    # Inputs: each column goes to its scalar or element.
    for col, port in enumerate(signature.inputs):
        if port.param not in params:
            raise NscError(f"input '{port.name}' names no parameter of {signature.function}")
        k, p = params[port.param]
        target = _param_local(k)
        if p.shape is not None or p.is_pointer:
            target += f"[{port.index or 0}]"
        lines.append(f"    {target} = {convert_input(p.ctype, f'nsc__in[{col}]')};")

    # The call. Arrays go through (void *) so that qualifiers, typedef spellings and multi-dimensional
    # array parameters all accept the flat local array.
    args = []
    for k, p in enumerate(signature.params):
        local = _param_local(k)
        args.append(local if p.shape is None and not p.is_pointer else f"(void *){local}")
    call = f"{signature.function}({', '.join(args)})"
    if signature.return_ctype is not None and any(o.param == "return" for o in signature.outputs):
        lines.append(f"    {signature.return_ctype} nsc__ret = {call};")
    else:
        lines.append(f"    {call};")

    # Outputs, in Signature.outputs order.
    for col, port in enumerate(signature.outputs):
        if port.param == "return":
            source = "nsc__ret"
        elif port.param in params:
            k, p = params[port.param]
            source = _param_local(k)
            if p.shape is not None or p.is_pointer:
                source += f"[{port.index or 0}]"
        else:
            raise NscError(f"output '{port.name}' names no parameter of {signature.function}")
        lines.append(f"    nsc__out[{col}] = (double){source};")
    lines.append("}")
    return "\n".join(lines)


def unit_source(user_file: str, signatures: list[Signature] | tuple[Signature, ...]) -> str:
    """The generated unit: the user's file, one stub per signature, and the dispatch table."""
    if not signatures:
        raise NscError("no function to run")
    parts = [
        "/* Generated by nsc (nsc/execute/harness.py): call stubs around the user's file. */",
        f"#include {c_string_literal(user_file)}",
        "",
        "typedef void (*nsc__stub_t)(const double *, double *);",
    ]
    for k, sig in enumerate(signatures):
        parts.append(call_stub(f"nsc__call_{k}", sig))
    table = ", ".join(f"nsc__call_{k}" for k in range(len(signatures)))
    parts.append(f"const nsc__stub_t nsc__stubs[] = {{{table}}};")
    parts.append(f"const long nsc__n_stubs = {len(signatures)};")
    return "\n".join(parts) + "\n"
