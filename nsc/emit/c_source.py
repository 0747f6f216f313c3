"""The model-specific C of `nsc emit-c`: weights as static const arrays, the nets, and the public functions.

    header(spec) -> NAME.h text        source(spec) -> NAME.c text

`EmitSpec` holds what the text is made from: the surrogate's weights and signature, the function name, the
certificate (with its status) and the guard (None, or the ranges alone, or the ranges and an error predictor).
The kernels (nsc/emit/kernels.py) are generic over a `struct nsc_net`; this module lays each network out for them
(weights transposed, widths padded to a multiple of 8 with zeros, the output map folded into the last layer) and
writes the functions a program calls: NAME (the original C signature), NAME_batch (row-major float arrays) and,
guarded, the stats API; the guarded functions call the original function, linked from the program's own source,
for inputs outside the ranges or with a predicted error above the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nsc.emit import kernels
from nsc.frontend.program import FLOAT_TYPES, INTEGER_LIMITS, Param, Signature
from nsc.surrogate.params import SurrogateParams

PAD = 8  # layer widths are padded to a multiple of this (the widest vector), with zero weights
ACT_CODES = {"relu": "NSC_RELU", "silu": "NSC_SILU", "tanh": "NSC_TANH"}


@dataclass
class EmitSpec:
    """name: the C function; model: the file's name, for comments; certificate: the parsed record or None, and
    certified/status its standing (surrogate/certificate.status); guard: whether the emitted functions check
    inputs; predictor: the guard's error predictor (SurrogateParams mapping inputs to log error) or None, with
    max_error its default threshold and error_scale the per-output scales its error is measured in."""

    params: SurrogateParams
    signature: Signature
    name: str
    model: str
    certificate: dict | None = None
    certified: bool = False
    status: str = ""
    guard: bool = False
    predictor: SurrogateParams | None = None
    max_error: float | None = None
    error_scale: list[float] | None = None

    @property
    def upper(self) -> str:
        return self.name.upper()


# ----------------------------------------------------------------------------------------------- numbers

def _float(v: float) -> str:
    """A float32 value as a C float literal that reads back to the same float."""
    v = float(np.float32(v))
    if v == 0:
        return "0.0f" if math.copysign(1, v) > 0 else "-0.0f"
    text = f"{v:.9g}"
    return text + ("f" if any(c in text for c in ".e") else ".0f")


def _double(v: float) -> str:
    return repr(float(v)) if math.isfinite(v) else ("HUGE_VAL" if v > 0 else "-HUGE_VAL")


def _array(ctype: str, name: str, values, fmt=_float, per_line: int = 8) -> str:
    values = list(values)
    lines = [", ".join(fmt(v) for v in values[k:k + per_line]) for k in range(0, len(values), per_line)]
    body = ",\n    ".join(lines) if lines else "0"
    return f"static const {ctype} {name}[{max(len(values), 1)}] NSC_ALIGNED = {{\n    {body}\n}};\n"


def _padded(n: int) -> int:
    return -(-n // PAD) * PAD


# ----------------------------------------------------------------------------------------------- nets

def net_text(params: SurrogateParams, prefix: str, fold_output: bool = True) -> tuple[str, int]:
    """(C text defining `static const struct nsc_net {prefix}_net`, the widest padded layer): weights stored
    transposed [fan_in][fan_out padded to PAD], zero rows for the previous layer's padding; the output map
    y = v * out_scale + out_shift folded into the last layer (in float64, then rounded once to float32)."""
    p = params.astype32()
    parts, layers = [], []
    fan_in = used_in = p.n_in  # rows of the stored weights; rows the kernels read (the units before, to 4)
    widest = p.n_in
    n_layers = len(p.weights)
    for k, (w, b) in enumerate(zip(p.weights, p.biases)):
        w, b = w.astype(np.float64), b.astype(np.float64)
        last = k == n_layers - 1
        if last and fold_output:
            w = w * p.out_scale.astype(np.float64)[:, None]
            b = b * p.out_scale.astype(np.float64) + p.out_shift.astype(np.float64)
        fan_out, padded = w.shape[0], _padded(w.shape[0])
        wt = np.zeros((fan_in, padded))
        wt[:w.shape[1], :fan_out] = w.T
        bias = np.zeros(padded)
        bias[:fan_out] = b
        parts.append(_array("float", f"{prefix}_w{k}", wt.reshape(-1)))
        parts.append(_array("float", f"{prefix}_b{k}", bias))
        floor, act = "0", "NSC_LINEAR" if last else ACT_CODES[p.activation]
        if p.floors is not None and not last:
            floors = np.zeros(padded)
            floors[:fan_out] = p.floors[k]
            parts.append(_array("float", f"{prefix}_f{k}", floors))
            floor, act = f"{prefix}_f{k}", "NSC_FLOOR"
        fan_out4 = -(-fan_out // 4) * 4
        layers.append(f"    {{{prefix}_w{k}, {prefix}_b{k}, {floor}, {used_in}, {fan_out4}, {padded}, {act}}}")
        fan_in, used_in = padded, fan_out4
        widest = max(widest, padded)
    rscale = 1.0 / p.in_scale.astype(np.float64)
    parts.append(_array("float", f"{prefix}_shift", p.in_shift))
    parts.append(_array("float", f"{prefix}_rscale", rscale))
    parts.append(f"static const struct nsc_layer {prefix}_layers[{n_layers}] = {{\n" + ",\n".join(layers) + "\n};\n")
    parts.append(f"static const struct nsc_net {prefix}_net = {{{p.n_in}, {p.n_out}, {n_layers}, {prefix}_shift, "
                 f"{prefix}_rscale, {prefix}_layers}};\n")
    return "\n".join(parts), widest


# ----------------------------------------------------------------------------------------------- C signature

def _by_pointer(param: Param) -> bool:
    return param.shape is not None or param.is_pointer


def prototype(signature: Signature, name: str) -> str:
    """`double name(double x, const double *a, double *out)`: the original function's parameter list (arrays as
    the pointers they decay to, so the declaration is compatible with `const double a[4]`)."""
    params = []
    for p in signature.params:
        if _by_pointer(p):
            params.append(f"{'const ' if p.is_const else ''}{p.ctype} *{p.name}")
        else:
            params.append(f"{p.ctype} {p.name}")
    return f"{signature.return_ctype or 'void'} {name}({', '.join(params) or 'void'})"


def _element(signature: Signature, port) -> str:
    """The C expression naming a port's value inside the function: `x`, `a[2]`, `p[0]`."""
    param = next(p for p in signature.params if p.name == port.param)
    return f"{param.name}[{port.index or 0}]" if _by_pointer(param) else param.name


def _integer_limits(ctype: str) -> tuple[str, str]:
    """The type's least and greatest values as C double literals the type holds (2^63 - 1 reads as 2^63: the
    largest double the type holds is one step below)."""
    lo, hi = INTEGER_LIMITS[ctype]
    hi_d = float(hi)
    if hi_d > hi:
        hi_d = float(np.nextafter(hi_d, 0))
    return _double(float(lo)), _double(hi_d)


def _from_float(ctype: str, value: str, rounded: bool = True) -> str:
    """C converting the float `value` to `ctype`: floating types by a cast; integer types held to the type's
    values first (NaN to the least: a cast of a value beyond the type would be undefined behaviour), then rounded
    to nearest (rounded: a surrogate's output is a float near an integer, which a cast would truncate) or cast
    (an argument, as a call from C and nsc's harness pass sampled inputs)."""
    if ctype in FLOAT_TYPES:
        return f"({ctype}){value}"
    if ctype == "_Bool":
        return f"(_Bool)({value} {'>= 0.5f' if rounded else '!= 0.0f'})"
    lo, hi = _integer_limits(ctype)
    if rounded:
        return f"({ctype})nsc_round({value}, {lo}, {hi})"
    return f"({ctype})(!({value} >= {lo}) ? {lo} : {value} > {hi} ? {hi} : (double){value})"


# ----------------------------------------------------------------------------------------------- texts

def _comment(spec: EmitSpec) -> str:
    sig, p = spec.signature, spec.params
    lines = [f"Surrogate of {prototype(sig, sig.function)};",
             f"generated by nsc emit-c from {spec.model}: {p.n_in} -> {' -> '.join(map(str, p.hidden))} -> "
             f"{p.n_out} ({p.activation}{', per-unit floors' if p.floors is not None else ''}).",
             "", "Inputs (declared ranges; the surrogate was made for these):"]
    for port in sig.inputs:
        lines.append(f"  {port.name:<16} {port.ctype:<14} [{port.lo:.9g}, {port.hi:.9g}]")
    lines.append("Outputs: " + ", ".join(f"{port.name} ({port.ctype})" for port in sig.outputs))
    lines.append("")
    if spec.certificate is None:
        lines.append(f"Certificate: {spec.status}")
    else:
        c = spec.certificate
        lines.append(f"Certificate ({spec.status}):")
        lines.append(f"  {c['function']} in {c['program']} on {c['n']} fresh inputs, seed {c['seed']}, "
                     f"{c['outside_ranges']:.2%} outside the ranges; per output:")
        for name, f in c["outputs"].items():
            lines.append(f"  {name}: RMSE {f['rmse']:.3g}, rel-RMSE {f['rel_rmse']:.3g}, |error| p50/p99/max "
                         f"{f['abs_p50']:.3g}/{f['abs_p99']:.3g}/{f['abs_max']:.3g}, relative p50/p99/max "
                         f"{f['rel_p50']:.3g}/{f['rel_p99']:.3g}/{f['rel_max']:.3g}")
    if spec.guard:
        predicted = " or with a predicted error above the threshold" if spec.predictor else ""
        lines += ["", f"Guarded: inputs outside the ranges{predicted} call {sig.function}, which the program links "
                  "from its own source."]
    body = "\n".join(f" * {line}".rstrip() for line in lines)
    return f"/*\n{body}\n */\n"


def header(spec: EmitSpec) -> str:
    sig, name, up = spec.signature, spec.name, spec.upper
    guard_macro = f"NSC_{up}_H"
    out = [_comment(spec),
           f"#ifndef {guard_macro}\n#define {guard_macro}\n\n#include <stddef.h>\n\n#ifdef __cplusplus\n"
           'extern "C" {\n#endif\n',
           f"#define {up}_N_IN {sig.n_in}\n#define {up}_N_OUT {sig.n_out}\n"
           f"#define {up}_CERTIFIED {1 if spec.certified else 0}\n"
           f"#define {up}_GUARDED {1 if spec.guard else 0}\n",
           f"/* The surrogate, called as {sig.function} is. */\n{prototype(sig, name)};\n",
           f"/* n rows at once: x [n][{up}_N_IN] and y [n][{up}_N_OUT], row-major float, columns in the order of\n"
           f" * {name}_input_names and {name}_output_names. */\n"
           f"void {name}_batch(const float *x, float *y, size_t n);\n",
           f"extern const char *const {name}_input_names[{up}_N_IN];\n"
           f"extern const char *const {name}_output_names[{up}_N_OUT];\n"
           f"extern const double {name}_input_lo[{up}_N_IN], {name}_input_hi[{up}_N_IN];  /* declared ranges */\n"]
    if spec.certificate is not None:
        c = spec.certificate
        out.append(f"/* What `nsc check` measured (see the comment above); {up}_CERTIFIED says whether it still "
                   "held when\n * this file was written. */\n"
                   f"#define {up}_CHECK_N {c['n']}\n#define {up}_CHECK_SEED {c['seed']}\n"
                   f"struct {name}_error {{\n    const char *output;\n    double rmse, rel_rmse, abs_p50, abs_p99, "
                   f"abs_max, rel_p50, rel_p99, rel_max;\n}};\n"
                   f"extern const struct {name}_error {name}_certificate[{up}_N_OUT];\n")
    if spec.guard:
        out.append(f"/* Guard counters: calls, and calls answered by {sig.function} (input outside the ranges, or\n"
                   " * predicted error above the threshold). Counted atomically under GCC and clang. */\n"
                   f"typedef struct {{\n    unsigned long long calls, fallbacks, out_of_range, predicted_error;\n"
                   f"}} {name}_stats_t;\n"
                   f"void {name}_stats({name}_stats_t *stats);\nvoid {name}_stats_reset(void);\n")
        if spec.predictor is not None:
            out.append(f"/* The threshold on the predicted error, in units of each output's standard deviation "
                       f"(default {spec.max_error:g}). */\n"
                       f"void {name}_set_max_error(float max_error);\nfloat {name}_max_error(void);\n"
                       f"extern const double {name}_error_scale[{up}_N_OUT];  /* the outputs' standard deviations */\n")
    out.append('#ifdef __cplusplus\n}\n#endif\n\n#endif\n')
    return "\n".join(out)


_SELECTION = r"""
/* Which kernels: GNU C vectors where the compiler has them (GCC, clang), 32-byte ones with AVX2 and FMA on x86,
 * chosen at run time unless the whole file is compiled for them; plain C99 otherwise, or with -DNSC_SCALAR. */
#if defined(NSC_SCALAR) || !defined(__GNUC__)
#define NSC_HAVE_W1 1
#elif (defined(__x86_64__) || defined(__i386__)) && !defined(NSC_NO_AVX2)
#define NSC_HAVE_W8 1
#if !(defined(__AVX2__) && defined(__FMA__))
#define NSC_HAVE_W4 1
#endif
#else
#define NSC_HAVE_W4 1
#endif
#ifdef __GNUC__
#define NSC_ALIGNED __attribute__((aligned(32)))
#define NSC_COUNT(counter, n) __atomic_fetch_add(&(counter), (unsigned long long)(n), __ATOMIC_RELAXED)
#else
#define NSC_ALIGNED
#define NSC_COUNT(counter, n) ((counter) += (unsigned long long)(n))
#endif
"""

_DISPATCH = r"""
static int nsc_width(void)
{
#if defined(NSC_HAVE_W8) && defined(NSC_HAVE_W4)
    static int width;
    if (!width) {
        __builtin_cpu_init();
        width = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 8 : 4;
    }
    return width;
#elif defined(NSC_HAVE_W8)
    return 8;
#elif defined(NSC_HAVE_W4)
    return 4;
#else
    return 1;
#endif
}

static void nsc_run_batch(const struct nsc_net *net, const float *x, float *y, size_t n)
{
    switch (nsc_width()) {
#ifdef NSC_HAVE_W8
    case 8: nsc_batch_w8(net, x, y, n); return;
#endif
#ifdef NSC_HAVE_W4
    case 4: nsc_batch_w4(net, x, y, n); return;
#endif
#ifdef NSC_HAVE_W1
    default: nsc_batch_w1(net, x, y, n); return;
#endif
    }
}

static void nsc_run_row(const struct nsc_net *net, const float *x, float *y)
{
    switch (nsc_width()) {
#ifdef NSC_HAVE_W8
    case 8: nsc_forward_row_w8(net, x, y); return;
#endif
#ifdef NSC_HAVE_W4
    case 4: nsc_forward_row_w4(net, x, y); return;
#endif
#ifdef NSC_HAVE_W1
    default: nsc_forward_row_w1(net, x, y); return;
#endif
    }
}
"""

_ROUND = r"""
/* An integer output: the float rounded half away from zero, held to [lo, hi] (NaN -> lo). */
static double nsc_round(float v, double lo, double hi)
{
    double d = v;
    if (!(d >= lo)) d = lo;
    if (d > hi) d = hi;
    d = d < 0 ? d - 0.5 : d + 0.5;
    return d < lo ? lo : d > hi ? hi : d;
}
"""


def _strings(name: str, values) -> str:
    return f"const char *const {name}[{len(values)}] = {{" + ", ".join(_c_string(v) for v in values) + "};\n"


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def source(spec: EmitSpec, header_name: str) -> str:
    sig, name = spec.signature, spec.name
    nets, widest = net_text(spec.params, "nsc_model")
    if spec.predictor is not None:
        guard_net, guard_widest = net_text(spec.predictor, "nsc_guard")
        nets += "\n" + guard_net
        widest = max(widest, guard_widest)
    lo, hi = sig.ranges()
    out = [_comment(spec), f'#include "{header_name}"\n\n#include <math.h>\n#include <string.h>\n',
           _SELECTION, f"#define NSC_MAX_WIDTH {widest}\n", kernels.COMMON]
    for width in (1, 4, 8):
        out.append(f"#ifdef NSC_HAVE_W{width}\n{kernels.clone(width)}#endif\n")
    out += [_DISPATCH, "/* ---- the model ---- */\n", nets,
            _strings(f"{name}_input_names", sig.input_names), _strings(f"{name}_output_names", sig.output_names),
            f"const double {name}_input_lo[{sig.n_in}] = {{{', '.join(_double(v) for v in lo)}}};\n"
            f"const double {name}_input_hi[{sig.n_in}] = {{{', '.join(_double(v) for v in hi)}}};\n"]
    if spec.certificate is not None:
        rows = []
        for out_name, f in spec.certificate["outputs"].items():
            figures = ", ".join(repr(float(f[k])) for k in ("rmse", "rel_rmse", "abs_p50", "abs_p99", "abs_max",
                                                             "rel_p50", "rel_p99", "rel_max"))
            rows.append(f"    {{{_c_string(out_name)}, {figures}}}")
        out.append(f"const struct {name}_error {name}_certificate[{sig.n_out}] = {{\n" + ",\n".join(rows) + "\n};\n")
    if any(port.ctype not in FLOAT_TYPES for port in sig.outputs):
        out.append(_ROUND)
    out.append(_guard_text(spec) if spec.guard else "")
    out.append(_public_functions(spec))
    return "\n".join(out)


def _public_functions(spec: EmitSpec) -> str:
    sig, name = spec.signature, spec.name
    # (locals named nsc__*, as nsc's harness names its own: no parameter of the program's is)
    lines = [f"{prototype(sig, name)}", "{", f"    float nsc__in[{sig.n_in}], nsc__out[{sig.n_out}];"]
    for col, port in enumerate(sig.inputs):
        lines.append(f"    nsc__in[{col}] = (float){_element(sig, port)};")
    if spec.guard:
        lines.append("    if (!nsc_accept_row(nsc__in, 1)) {")
        call = f"{sig.function}({', '.join(p.name for p in sig.params)})"
        lines.append(f"        {'return ' if sig.return_ctype else ''}{call};")
        if not sig.return_ctype:
            lines.append("        return;")
        lines.append("    }")
    lines.append("    nsc_run_row(&nsc_model_net, nsc__in, nsc__out);")
    ret = None
    for col, port in enumerate(sig.outputs):
        value = _from_float(port.ctype, f"nsc__out[{col}]")
        if port.param == "return":
            ret = value
        else:
            lines.append(f"    {_element(sig, port)} = {value};")
    if ret is not None:
        lines.append(f"    return {ret};")
    lines.append("}")
    batch = [f"void {name}_batch(const float *x, float *y, size_t n)", "{",
             "    nsc_run_batch(&nsc_model_net, x, y, n);"]
    if spec.guard:
        batch.append("    nsc_guard_batch(x, y, n);")
    batch.append("}")
    return "\n".join(lines) + "\n\n" + "\n".join(batch) + "\n"


def _guard_text(spec: EmitSpec) -> str:
    """The guard: the original's prototype, the stats, the acceptance test of a row, the fallback of one row of
    floats through the original function, and the batch's second pass."""
    sig, name = spec.signature, spec.name
    parts = [f"/* ---- the guard ---- */\n{prototype(sig, sig.function)};  /* the original, linked from the "
             "program */\n",
             f"static {name}_stats_t nsc_stats;\n",
             f"void {name}_stats({name}_stats_t *stats)\n{{\n"
             "    stats->calls = NSC_COUNT(nsc_stats.calls, 0);\n"
             "    stats->fallbacks = NSC_COUNT(nsc_stats.fallbacks, 0);\n"
             "    stats->out_of_range = NSC_COUNT(nsc_stats.out_of_range, 0);\n"
             "    stats->predicted_error = NSC_COUNT(nsc_stats.predicted_error, 0);\n}\n",
             f"void {name}_stats_reset(void)\n{{\n    memset(&nsc_stats, 0, sizeof nsc_stats);\n}}\n"]
    if spec.predictor is not None:
        log_max = math.log(spec.max_error)
        parts.append(f"const double {name}_error_scale[{sig.n_out}] = "
                     f"{{{', '.join(_double(v) for v in spec.error_scale)}}};\n"
                     f"static float nsc_max_error = {_float(spec.max_error)}, nsc_log_max_error = {_float(log_max)};\n"
                     f"void {name}_set_max_error(float max_error)\n{{\n    nsc_max_error = max_error;\n"
                     "    nsc_log_max_error = max_error > 0 ? logf(max_error) : -HUGE_VALF;\n}\n"
                     f"float {name}_max_error(void)\n{{\n    return nsc_max_error;\n}}\n")
    # one row: in range, then (with a predictor) a predicted error at most the threshold
    accept = ["/* Counts the call(s); 0 where the original function must answer (and counts that too). */",
              "static int nsc_accept_row(const float *x, size_t calls)", "{", "    int i;",
              "    NSC_COUNT(nsc_stats.calls, calls);",
              f"    for (i = 0; i < {sig.n_in}; i++)",
              f"        if (!(x[i] >= {name}_input_lo[i] && x[i] <= {name}_input_hi[i])) {{",
              "            NSC_COUNT(nsc_stats.out_of_range, 1);", "            NSC_COUNT(nsc_stats.fallbacks, 1);",
              "            return 0;", "        }"]
    if spec.predictor is not None:
        accept += ["    {", "        float log_error;", "        nsc_run_row(&nsc_guard_net, x, &log_error);",
                   "        if (!(log_error <= nsc_log_max_error)) {",
                   "            NSC_COUNT(nsc_stats.predicted_error, 1);",
                   "            NSC_COUNT(nsc_stats.fallbacks, 1);", "            return 0;", "        }", "    }"]
    accept += ["    return 1;", "}"]
    parts.append("\n".join(accept) + "\n")
    parts.append(row_stub(sig, sig.function, "nsc_fallback_row"))
    # the batch: the surrogate ran on every row; rows the guard refuses are answered by the original
    batch = ["static void nsc_guard_batch(const float *x, float *y, size_t n)", "{", "    size_t k;",
             "    if (n == 0) return;", "    NSC_COUNT(nsc_stats.calls, n);", "    for (k = 0; k < n; k++) {",
             f"        const float *row = x + k * {sig.n_in};", "        int i, inside = 1;",
             f"        for (i = 0; i < {sig.n_in}; i++)",
             f"            inside &= row[i] >= {name}_input_lo[i] && row[i] <= {name}_input_hi[i];",
             "        if (!inside) {", "            NSC_COUNT(nsc_stats.out_of_range, 1);",
             "            NSC_COUNT(nsc_stats.fallbacks, 1);",
             f"            nsc_fallback_row(row, y + k * {sig.n_out});",
             "        }", "    }"]
    if spec.predictor is not None:
        batch += ["    {  /* the error predictor on every row, in chunks */",
                  "        float log_error[256];", "        size_t start, m;",
                  "        for (start = 0; start < n; start += m) {",
                  "            m = n - start < 256 ? n - start : 256;",
                  f"            nsc_run_batch(&nsc_guard_net, x + start * {sig.n_in}, log_error, m);",
                  "            for (k = 0; k < m; k++) {",
                  f"                const float *row = x + (start + k) * {sig.n_in};",
                  "                int i, inside = 1;",
                  f"                for (i = 0; i < {sig.n_in}; i++)",
                  f"                    inside &= row[i] >= {name}_input_lo[i] && row[i] <= {name}_input_hi[i];",
                  "                if (inside && !(log_error[k] <= nsc_log_max_error)) {",
                  "                    NSC_COUNT(nsc_stats.predicted_error, 1);",
                  "                    NSC_COUNT(nsc_stats.fallbacks, 1);",
                  f"                    nsc_fallback_row(row, y + (start + k) * {sig.n_out});",
                  "                }", "            }", "        }", "    }"]
    batch.append("}")
    parts.append("\n".join(batch) + "\n")
    return "\n".join(parts)


def row_stub(sig: Signature, callee: str, stub: str) -> str:
    """`static void STUB(const float *x, float *y)`: one row of float inputs (the signature's columns) through
    `callee`, a function with the original signature, its outputs back as floats (the guard's fallback; tests and
    bench/ call the original and the surrogate through it alike)."""
    lines = [f"static void {stub}(const float *x, float *y)", "{"]
    for k, p in enumerate(sig.params):
        if _by_pointer(p):
            lines.append(f"    {p.ctype} a{k}[{p.shape or 1}];")
            lines.append(f"    memset(a{k}, 0, sizeof a{k});")
        else:
            lines.append(f"    {p.ctype} a{k};")
    index = {p.name: k for k, p in enumerate(sig.params)}
    for col, port in enumerate(sig.inputs):
        k = index[port.param]
        target = f"a{k}[{port.index or 0}]" if _by_pointer(sig.params[k]) else f"a{k}"
        lines.append(f"    {target} = {_from_float(port.ctype, f'x[{col}]', rounded=False)};")
    args = ", ".join(f"a{k}" for k in range(len(sig.params)))
    has_return = sig.return_ctype is not None and any(o.param == "return" for o in sig.outputs)
    lines.append(f"    {f'{sig.return_ctype} r = ' if has_return else ''}{callee}({args});")
    for col, port in enumerate(sig.outputs):
        if port.param == "return":
            lines.append(f"    y[{col}] = (float)r;")
        else:
            k = index[port.param]
            source = f"a{k}[{port.index or 0}]" if _by_pointer(sig.params[k]) else f"a{k}"
            lines.append(f"    y[{col}] = (float){source};")
    lines.append("}")
    return "\n".join(lines) + "\n"
