"""Synthetic numeric C kernels for the compiler's training corpus.

`generate_program(seed)` builds one C function (plus the helpers, `#define`s, `static const` constants and tables
it uses) that looks like a real numeric kernel, with a `#pragma nsc range` line for every input. It is built as a
small typed tree (the IR below), never as strings, so that:
  * types stay consistent (C's usual arithmetic conversions are tracked on every node);
  * every node carries an estimated value interval, which lets the generator guard `log`/`sqrt`/division the way
    real code does, keep `exp` arguments sane, and steer output magnitudes, so most programs give finite,
    non-constant outputs;
  * rewrites.py can transform the same tree with semantics-preserving rewrites, and the corpus runner can emit many
    programs into one translation unit with uniquely renamed top-level symbols (`emit_unit(..., rename=...)`).

The distribution of constructs is NOTES.md section 6: locals, if/else chains, ternaries, switch on int inputs,
fixed-bound loops and accumulations, helper functions, constants and lookup tables with interpolation, math.h
calls, int/float/double mixes, array inputs, pointer/array/in-out outputs, clamping, polynomials, iterative
updates (Newton, bisection, fixed point, Euler steps) and piecewise functions. The examples/ kernels are not
templated here: the compiler is evaluated on them as unseen programs; coverage.py measures that they are in
distribution.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

# ============================================================================================== IR: expressions

FLOAT_CTYPES = ("float", "double")


def is_float_type(ctype: str) -> bool:
    return ctype in FLOAT_CTYPES


def arith_type(a: str, b: str) -> str:
    """C's usual arithmetic conversions, for the types the generator uses."""
    if "double" in (a, b):
        return "double"
    if "float" in (a, b):
        return "float"
    if "unsigned int" in (a, b):
        return "unsigned int"
    return "int"  # everything narrower promotes to int


class Expr:
    """Base of expression nodes. `iv` is the generator's estimate of the value interval (None when unknown,
    e.g. on nodes built by rewrites); `deps` the names of inputs the value depends on."""

    ctype = "double"
    iv: tuple[float, float] | None = None
    deps: frozenset = frozenset()

    def children(self) -> list["Expr"]:
        return []


class Num(Expr):
    def __init__(self, value, ctype="double"):
        self.ctype = ctype
        if is_float_type(ctype):
            value = float(format_float(value))  # the value the compiled literal has
        else:
            value = int(value)
        self.value = value
        self.iv = (float(value), float(value))


class Var(Expr):
    """A named scalar: parameter, local, loop counter, `#define` or `static const`."""

    def __init__(self, name, ctype):
        self.name, self.ctype = name, ctype


class Elem(Expr):
    """`a[i]` (or `m[i][j]` with two indices) of an array parameter or table."""

    def __init__(self, name, index, ctype, index2=None):
        self.name, self.index, self.ctype, self.index2 = name, index, ctype, index2

    def children(self):
        return [self.index] + ([self.index2] if self.index2 is not None else [])


class Deref(Expr):
    """`*p` of a pointer parameter."""

    def __init__(self, name, ctype):
        self.name, self.ctype = name, ctype


class Unary(Expr):
    def __init__(self, op, a):
        self.op, self.a = op, a
        self.ctype = "int" if op == "!" else arith_type(a.ctype, "int")

    def children(self):
        return [self.a]


class Bin(Expr):
    """Arithmetic `+ - * / %`, comparison `< <= > >= == !=` and logical `&& ||` operators."""

    def __init__(self, op, a, b):
        self.op, self.a, self.b = op, a, b
        self.ctype = "int" if op in CMP_OPS or op in ("&&", "||") else arith_type(a.ctype, b.ctype)

    def children(self):
        return [self.a, self.b]


class Cond(Expr):
    def __init__(self, c, a, b):
        self.c, self.a, self.b = c, a, b
        self.ctype = arith_type(a.ctype, b.ctype)

    def children(self):
        return [self.c, self.a, self.b]


class Call(Expr):
    def __init__(self, fn, args, ctype):
        self.fn, self.args, self.ctype = fn, list(args), ctype

    def children(self):
        return list(self.args)


class Cast(Expr):
    def __init__(self, ctype, a):
        self.ctype, self.a = ctype, a

    def children(self):
        return [self.a]


class AddrOf(Expr):
    """`&name`: the address of a local, passed to a helper that writes through it."""

    def __init__(self, name, ctype):
        self.name, self.ctype = name, ctype


CMP_OPS = ("<", "<=", ">", ">=", "==", "!=")

# ============================================================================================== IR: statements


class Stmt:
    def blocks(self) -> list[list["Stmt"]]:
        """Nested statement lists (for walkers)."""
        return []


class Decl(Stmt):
    """`T name = init;` (init may be None), or a local array `T name[length];`."""

    def __init__(self, ctype, name, init=None, length=None):
        self.ctype, self.name, self.init, self.length = ctype, name, init, length


class ExprStmt(Stmt):
    """A call for its effect: a void helper writing arrays or pointed-to locals."""

    def __init__(self, expr):
        self.expr = expr


class Assign(Stmt):
    """`target op value;` with op one of `= += -= *= /=`; target is Var, Elem or Deref."""

    def __init__(self, target, op, value):
        self.target, self.op, self.value = target, op, value


class If(Stmt):
    def __init__(self, cond, then, orelse=None):
        self.cond, self.then, self.orelse = cond, then, orelse

    def blocks(self):
        return [self.then] + ([self.orelse] if self.orelse else [])


class Loop(Stmt):
    """A counted loop `for (var = start; var CMP stop; var += step) body`.

    form: "for" or "while" (emitted as `var = start; while (var CMP stop) { body; var++; }`).
    declare: the counter is declared by the loop (`for (int i = 0; ...)`, or `int i = 0; while ...`);
    otherwise it is a local declared earlier. The body never contains `continue` (so both forms agree).
    """

    def __init__(self, var, start, stop, body, cmp="<", step=1, form="for", declare=True):
        self.var, self.start, self.stop, self.body = var, start, stop, body
        self.cmp, self.step, self.form, self.declare = cmp, step, form, declare

    def blocks(self):
        return [self.body]


class Switch(Stmt):
    """`switch (subject) { case k: ... break; ... default: ... }`; cases are (labels, body) pairs; `names` maps
    a label value to an enum constant spelling it."""

    def __init__(self, subject, cases, default, names=None):
        self.subject, self.cases, self.default, self.names = subject, cases, default, names or {}

    def blocks(self):
        return [body for _, body in self.cases] + [self.default]


class Break(Stmt):
    pass


class Return(Stmt):
    def __init__(self, value):
        self.value = value


# ============================================================================================== IR: top level


@dataclass
class Define:
    name: str
    value: Expr


@dataclass
class Const:
    ctype: str
    name: str
    value: Expr


@dataclass
class Enum:
    """`enum name { A = 0, B = 1, ... };` (name may be empty); its constants label switch cases."""

    name: str
    members: list
    values: list


@dataclass
class Table:
    """`static const T name[n] = {...}` or, with `cols`, `static const T name[rows][cols]`."""

    ctype: str
    name: str
    values: list
    cols: int | None = None


@dataclass
class PDecl:
    """A parameter. kind: scalar | array_in (`const T a[n]`) | ptr_in (`const T *a` + shape pragma) |
    ptr_out (`T *p`) | array_out (`T r[n]`) | inout (`T *p`, read then written)."""

    name: str
    ctype: str
    kind: str = "scalar"
    n: int | None = None
    lo: float | None = None
    hi: float | None = None

    @property
    def is_input(self) -> bool:
        return self.kind in ("scalar", "array_in", "ptr_in", "inout")


@dataclass
class Function:
    name: str
    ret: str  # "void" or a scalar type
    params: list
    body: list
    storage: str = ""  # "", "static", "static inline"


@dataclass
class Unit:
    """A whole program: file-scope items in order (Define, Const, Table, helper Function), then the target."""

    items: list
    target: Function
    style: dict = field(default_factory=dict)  # emission style: braces, indent


# ============================================================================================== emission

PREC = {"||": 4, "&&": 5, "==": 9, "!=": 9, "<": 10, "<=": 10, ">": 10, ">=": 10,
        "+": 12, "-": 12, "*": 13, "/": 13, "%": 13}


def format_float(v: float) -> str:
    """A short C literal for a double (without suffix): `2.0`, `0.125`, `1e-06`, `-3.5`."""
    v = float(v)
    if v == int(v) and abs(v) < 1e6:
        return f"{v:.1f}"
    s = f"{v:.6g}"
    if "." not in s and "e" not in s:
        s += ".0"
    return s


def _prec(e: Expr) -> int:
    if isinstance(e, Bin):
        return PREC[e.op]
    if isinstance(e, Cond):
        return 3
    if isinstance(e, (Unary, Cast)):
        return 14
    if isinstance(e, Num) and e.value < 0:
        return 14
    return 16


class Emitter:
    """Writes IR as C text. `rename` maps names to new ones everywhere they occur (the corpus runner renames
    file-scope names and shape-pragma parameters so that many programs share one translation unit)."""

    def __init__(self, rename=None, indent="    ", braces="always"):
        self.rename = rename or {}
        self.ind = indent
        self.braces = braces  # "always" or "minimal"

    def name(self, n: str) -> str:
        return self.rename.get(n, n)

    # ---- expressions
    def expr(self, e: Expr) -> str:
        if isinstance(e, Num):
            if is_float_type(e.ctype):
                return format_float(e.value) + ("f" if e.ctype == "float" else "")
            return str(e.value) + ("u" if e.ctype == "unsigned int" else "")
        if isinstance(e, Var):
            return self.name(e.name)
        if isinstance(e, Elem):
            s = f"{self.name(e.name)}[{self.expr(e.index)}]"
            return s + (f"[{self.expr(e.index2)}]" if e.index2 is not None else "")
        if isinstance(e, Deref):
            return f"*{self.name(e.name)}"
        if isinstance(e, AddrOf):
            return f"&{self.name(e.name)}"
        if isinstance(e, Unary):
            inner = self.expr(e.a)
            if _prec(e.a) < 14 or (e.op == "-" and inner.startswith("-")):
                inner = f"({inner})"
            return f"{e.op}{inner}"
        if isinstance(e, Cast):
            inner = self.expr(e.a)
            return f"({e.ctype}){inner if _prec(e.a) >= 14 else '(' + inner + ')'}"
        if isinstance(e, Bin):
            p = PREC[e.op]
            a, b = self.expr(e.a), self.expr(e.b)
            if _prec(e.a) < p:
                a = f"({a})"
            if _prec(e.b) <= p:  # keeps the tree's association exactly: a - (b - c), a + (b + c)
                b = f"({b})"
            return f"{a} {e.op} {b}"
        if isinstance(e, Cond):
            c, a, b = self.expr(e.c), self.expr(e.a), self.expr(e.b)
            c = f"({c})" if _prec(e.c) <= 4 else c
            a = f"({a})" if _prec(e.a) <= 3 else a
            b = f"({b})" if _prec(e.b) <= 3 else b
            return f"{c} ? {a} : {b}"
        if isinstance(e, Call):
            return f"{self.name(e.fn)}({', '.join(self.expr(a) for a in e.args)})"
        raise TypeError(f"unknown expression {e!r}")

    # ---- statements
    def block(self, stmts, depth) -> list[str]:
        out = []
        for s in stmts:
            out.extend(self.stmt(s, depth))
        return out

    def body_lines(self, head: str, body, depth) -> list[str]:
        pad = self.ind * depth
        if self.braces == "minimal" and len(body) == 1 and isinstance(body[0], (Assign, Return, Break)):
            return [pad + head] + self.stmt(body[0], depth + 1)
        return [pad + head + " {"] + self.block(body, depth + 1) + [pad + "}"]

    def stmt(self, s: Stmt, depth) -> list[str]:
        pad = self.ind * depth
        if isinstance(s, Decl):
            init = f" = {self.expr(s.init)}" if s.init is not None else ""
            dims = f"[{s.length}]" if s.length else ""
            return [f"{pad}{s.ctype} {self.name(s.name)}{dims}{init};"]
        if isinstance(s, ExprStmt):
            return [f"{pad}{self.expr(s.expr)};"]
        if isinstance(s, Assign):
            return [f"{pad}{self.expr(s.target)} {s.op} {self.expr(s.value)};"]
        if isinstance(s, Return):
            return [f"{pad}return {self.expr(s.value)};"]
        if isinstance(s, Break):
            return [f"{pad}break;"]
        if isinstance(s, If):
            lines = self.body_lines(f"if ({self.expr(s.cond)})", s.then, depth)
            orelse = s.orelse
            while orelse:
                if len(orelse) == 1 and isinstance(orelse[0], If):  # else-if chain
                    nested = orelse[0]
                    lines += self._else(f"else if ({self.expr(nested.cond)})", nested.then, depth)
                    orelse = nested.orelse
                else:
                    lines += self._else("else", orelse, depth)
                    orelse = None
            return lines
        if isinstance(s, Loop):
            v = self.name(s.var)
            step = f"{v}++" if s.step == 1 else f"{v}--" if s.step == -1 else f"{v} += {s.step}"
            cond = f"{v} {s.cmp} {self.expr(s.stop)}"
            if s.form == "for":
                init = f"int {v} = {self.expr(s.start)}" if s.declare else f"{v} = {self.expr(s.start)}"
                return self.body_lines(f"for ({init}; {cond}; {step})", s.body, depth)
            init = f"int {v} = {self.expr(s.start)};" if s.declare else f"{v} = {self.expr(s.start)};"
            return ([pad + init, f"{pad}while ({cond}) {{"] + self.block(s.body, depth + 1)
                    + [f"{pad}{self.ind}{step};", pad + "}"])
        if isinstance(s, Switch):
            lines = [f"{pad}switch ({self.expr(s.subject)}) {{"]
            for labels, body in s.cases:
                lines += [f"{pad}case {self.name(s.names[k]) if k in s.names else k}:" for k in labels]
                lines += self.block(body, depth + 1) + [f"{pad}{self.ind}break;"]
            lines += [f"{pad}default:"] + self.block(s.default, depth + 1) + [f"{pad}{self.ind}break;"]
            return lines + [pad + "}"]
        raise TypeError(f"unknown statement {s!r}")

    def _else(self, head, body, depth):
        return self.body_lines(head, body, depth)

    # ---- top level
    def param(self, p: PDecl) -> str:
        p = PDecl(self.name(p.name), p.ctype, p.kind, p.n, p.lo, p.hi)
        if p.kind == "scalar":
            return f"{p.ctype} {p.name}"
        if p.kind == "array_in":
            return f"const {p.ctype} {p.name}[{p.n}]"
        if p.kind == "ptr_in":
            return f"const {p.ctype} *{p.name}"
        if p.kind == "array_const":  # a helper's array parameter
            return f"const {p.ctype} {p.name}[{p.n}]"
        if p.kind in ("ptr_out", "inout"):
            return f"{p.ctype} *{p.name}"
        if p.kind == "array_out":
            return f"{p.ctype} {p.name}[{p.n}]"
        raise ValueError(p.kind)

    def function(self, f: Function) -> list[str]:
        storage = f.storage + " " if f.storage else ""
        params = ", ".join(self.param(p) for p in f.params) or "void"
        return [f"{storage}{f.ret} {self.name(f.name)}({params})", "{"] + self.block(f.body, 1) + ["}"]

    def item(self, it) -> list[str]:
        if isinstance(it, Define):
            v = self.expr(it.value)
            return [f"#define {self.name(it.name)} {v if _prec(it.value) >= 16 else '(' + v + ')'}"]
        if isinstance(it, Const):
            return [f"static const {it.ctype} {self.name(it.name)} = {self.expr(it.value)};"]
        if isinstance(it, Table):
            fmt = (lambda v: format_float(v) + ("f" if it.ctype == "float" else "")) if is_float_type(it.ctype) \
                else str
            if it.cols:
                rows = [it.values[i:i + it.cols] for i in range(0, len(it.values), it.cols)]
                body = [f"    {{{', '.join(fmt(v) for v in r)}}}," for r in rows]
                return ([f"static const {it.ctype} {self.name(it.name)}[{len(rows)}][{it.cols}] = {{"] + body
                        + ["};"])
            vals = [fmt(v) for v in it.values]
            lines, cur = [], []
            for v in vals:  # wrap long tables like people do
                cur.append(v)
                if len(cur) == 8:
                    lines.append("    " + ", ".join(cur) + ",")
                    cur = []
            if cur:
                lines.append("    " + ", ".join(cur) + ",")
            lines[-1] = lines[-1].rstrip(",")
            return [f"static const {it.ctype} {self.name(it.name)}[{len(vals)}] = {{"] + lines + ["};"]
        if isinstance(it, Function):
            return self.function(it)
        if isinstance(it, Enum):
            members = ", ".join(f"{self.name(m)} = {v}" for m, v in zip(it.members, it.values))
            return [f"enum {self.name(it.name) + ' ' if it.name else ''}{{ {members} }};"]
        raise TypeError(it)


def pragma_lines(target: Function, rename=None) -> list[str]:
    rename = rename or {}
    lines = []
    for p in target.params:
        name = rename.get(p.name, p.name)
        if p.kind == "ptr_in":
            lines.append(f"#pragma nsc shape {name} {p.n}")
        if p.is_input:
            lines.append(f"#pragma nsc range {name} {_range_num(p.lo, p.ctype)} {_range_num(p.hi, p.ctype)}")
    return lines


def _range_num(v, ctype) -> str:
    return str(int(v)) if not is_float_type(ctype) else f"{v:g}"


def emit_unit(unit: Unit, rename=None, header=True, pragmas=True) -> str:
    """C text of a program. header: start with `#include <math.h>`; pragmas: range/shape lines before the target."""
    em = Emitter(rename, indent=unit.style.get("indent", "    "), braces=unit.style.get("braces", "always"))
    lines = ["#include <math.h>", ""] if header else []
    prev = None
    for it in unit.items:
        if prev is not None and (isinstance(it, Function) or type(it) is not type(prev)):
            lines.append("")
        lines += em.item(it)
        prev = it
    if unit.items:
        lines.append("")
    if pragmas:
        lines += pragma_lines(unit.target, rename)
    lines += em.function(unit.target)
    return "\n".join(lines) + "\n"


# ============================================================================================== generator

SCALAR_NAMES = ["x", "y", "z", "t", "u", "v", "w", "s", "r", "h", "a", "b", "c", "d", "k", "m", "p", "q",
                "dt", "dx", "rate", "gain", "alpha", "beta", "gamma_", "theta", "phi", "omega", "freq", "amp",
                "phase", "temp", "pres", "mass", "radius", "angle", "speed", "accel", "dist", "len", "width",
                "height", "depth", "load", "flow", "level", "weight", "bias", "scale", "offset", "sigma", "mu",
                "tau", "eps", "lambda", "rho", "kappa", "strike", "spot", "vol", "price", "cost", "qty", "ratio",
                "power", "energy", "volt", "curr", "res", "cap", "ind", "lum", "hue", "sat", "val", "red",
                "green", "blue", "px", "py", "pz", "vx", "vy", "vz", "x0", "x1", "x2", "t0", "t1", "lo", "hi",
                "step", "tol", "damp", "stiff", "visc", "dens", "conc", "humid", "wind", "elev", "lat", "lon"]
INT_NAMES = ["n", "mode", "k", "idx", "iters", "order", "steps", "level", "band", "kind", "sel", "count",
             "nbits", "channel", "zone", "tier", "bin", "lane", "phase_id", "ncoef", "degree", "quality"]
ARRAY_NAMES = ["a", "v", "w", "x", "coef", "samples", "buf", "vals", "pts", "q", "m", "src", "hist", "pix",
               "weights", "state", "in", "data", "g", "f"]
OUT_NAMES = ["out", "res", "result", "y", "dst", "o", "val", "grad", "deriv", "rate_out", "pos", "vel", "acc",
             "err", "lo_out", "hi_out", "mag", "ang", "sum_out", "flux", "rgb", "xyz", "comp"]
LOCAL_NAMES = ["tmp", "acc", "sum", "s", "d", "e", "f", "g", "scale", "norm", "ratio", "diff", "mid", "frac",
               "res", "val", "term", "base", "corr", "fac", "num", "den", "mag", "ang", "w", "q", "r", "tt", "uu",
               "xx", "yy", "zz", "arg", "lim", "pk", "gain2", "lvl", "adj", "delta", "slope", "bias2", "cur",
               "prev", "next", "est", "approx", "root", "err", "z1", "z2", "c1", "c2", "k1", "k2", "m1", "h1",
               "energy", "flux", "force", "drag", "heat", "loss", "score", "wsum", "mean", "var", "dev", "peak",
               "lowp", "highp", "blend", "mixv", "fade", "ramp", "step_", "ease", "smooth", "att", "decay", "grow"]
HELPER_NAMES = ["sq", "cube", "lerp", "clampd", "clampf", "sgn", "smooth", "ramp", "saturate", "wrap", "softplus",
                "sigmoid", "gauss", "kernel", "weight_fn", "profile", "response", "transfer", "shape_fn", "model",
                "eval_poly", "blend", "damp", "attenuate", "resid", "objective", "potential", "penalty",
                "activation", "curve", "law", "rate_fn", "mix", "norm2", "dist2", "fade", "bump", "window"]
CONST_NAMES = ["K", "GAIN", "SCALE", "OFFSET", "RATE", "ALPHA", "BETA", "EPS", "TOL", "LIMIT", "MAXV", "MINV",
               "C0", "C1", "C2", "C3", "KP", "KD", "KI", "DT", "TAU", "G", "RHO", "MU", "PI_F", "TWO_PI", "HALF",
               "THRESH", "CUTOFF", "BASE", "STEP", "DAMPING", "STIFFNESS", "REF", "NORM", "BIAS", "FACTOR"]
TABLE_NAMES = ["TABLE", "LUT", "COEFS", "WEIGHTS", "KNOTS", "CURVE", "TAPS", "BREAKS", "RATES", "GAINS", "POLY",
               "SAMPLES", "PROFILE", "LEVELS", "MATRIX", "M", "W", "H", "XS", "YS", "TBL", "CAL"]
FUNC_VERBS = ["compute", "eval", "calc", "update", "estimate", "apply", "filter", "solve", "model", "process",
              "transform", "step", "get", "measure", "predict", "score", "convert", "adjust", "integrate", "map"]
FUNC_NOUNS = ["flux", "gain", "response", "energy", "force", "pressure", "rate", "price", "signal", "output",
              "value", "state", "kernel", "curve", "weight", "density", "heat", "drag", "blend", "shade", "level",
              "index", "score", "cost", "load", "torque", "angle", "position", "velocity", "tone", "mix", "dose"]
AVOID = {"y0", "y1", "yn", "j0", "j1", "jn", "gamma", "index", "time", "div", "exp", "log", "pow", "abs", "fmin",
         "fmax", "round", "trunc", "remainder", "signbit", "isnan", "isinf", "floor", "ceil", "sin", "cos", "tan"}

NAMED_CONSTANTS = {"PI_F": 3.14159265, "TWO_PI": 6.28318531, "HALF": 0.5, "G": 9.81, "EPS": 1e-9, "TOL": 1e-6}

# (lo, hi) range families with realistic scales.
RANGES = [(0, 1), (-1, 1), (-10, 10), (0, 10), (1, 1000), (0.01, 0.5), (0, 6.28318), (-3.14159, 3.14159),
          (0, 100), (-50, 50), (273, 373), (0.1, 10), (0.001, 0.1), (0.5, 2), (-5, 5), (1, 10), (0, 0.25),
          (10, 200), (-100, 100), (0.2, 0.8), (-2, 2), (0, 5000), (1e-4, 1e-2), (0, 360), (-90, 90), (1, 5),
          (100, 10000), (-1e3, 1e3), (0.05, 3)]
INT_RANGES = [(0, 3), (0, 4), (0, 7), (1, 16), (1, 8), (0, 255), (-5, 5), (0, 100), (2, 12), (1, 4), (0, 1),
              (0, 9), (-10, 10), (1, 32), (0, 15)]


@dataclass
class VarInfo:
    """What the generator knows about a name in scope."""

    name: str
    ctype: str
    lo: float
    hi: float
    role: str  # input | local | const | loop | array | table | state
    deps: frozenset = frozenset()
    n: int | None = None  # array / table length
    uses: int = 0
    mutable: bool = False


@dataclass
class Helper:
    """A helper the builder defined: `kind` names the stock utilities (sq, lerp, clamp, sigmoid, gauss); a
    "random" helper was built over parameters with the ranges in `pinfos` and returns values in `iv`."""

    fn: Function
    kind: str
    pinfos: list | None = None
    iv: tuple | None = None


@dataclass
class GeneratedProgram:
    """One generated program: its C text, its IR (for rewrites and batched emission) and its construct counts."""

    name: str
    c_text: str
    seed: int
    unit: Unit
    constructs: Counter

    @property
    def toplevel_names(self) -> list[str]:
        return toplevel_names(self.unit)


def toplevel_names(unit: Unit) -> list[str]:
    """File-scope names a batched translation unit must rename: constants, tables, helpers, the target."""
    names = [it.name for it in unit.items if it.name] + [unit.target.name]
    return names + [m for it in unit.items if isinstance(it, Enum) for m in it.members]


def copy_expr(e: Expr) -> Expr:
    import copy
    return copy.deepcopy(e)


def nice(v: float, digits: int = 3) -> float:
    """Round to a few significant digits, the way constants look in real code."""
    if v == 0 or not math.isfinite(v):
        return 0.0
    return float(f"{v:.{digits}g}")


def hull(*ivs):
    return (min(i[0] for i in ivs), max(i[1] for i in ivs))


def mag(iv) -> float:
    return max(abs(iv[0]), abs(iv[1]))


class ProgramBuilder:
    """Builds one program from a seeded RNG. Each `block_*` method appends statements to the body and adds the
    locals it defines to the scope; `expr` builds typed, interval-tracked expressions over the scope."""

    MAG_LIMIT = 1e6  # intermediate values are kept below this (scaled otherwise)

    def __init__(self, seed: int):
        self.seed = seed
        self.rng = random.Random(seed)
        self.items: list = []
        self.scope: list[VarInfo] = []
        self.used_names: set[str] = set(AVOID)
        self.features: Counter = Counter()
        self.helpers: list[Helper] = []
        self.loop_depth = 0
        r = self.rng.random()
        self.style = "double" if r < 0.62 else "float" if r < 0.80 else "mixed"
        self.ftype = "float" if self.style == "float" else "double"
        self.float_math = self.style == "float" and self.rng.random() < 0.5  # sinf, expf, ...

    # ------------------------------------------------------------------ names
    def fresh(self, pool, upper=False) -> str:
        rng = self.rng
        for _ in range(8):
            n = rng.choice(pool)
            n = n.upper() if upper else n
            if n not in self.used_names:
                self.used_names.add(n)
                return n
        base = rng.choice(pool)
        base = base.upper() if upper else base
        k = 2
        while f"{base}{k}" in self.used_names:
            k += 1
        self.used_names.add(f"{base}{k}")
        return f"{base}{k}"

    # ------------------------------------------------------------------ small expression helpers
    def lit(self, v) -> Num:
        """A floating literal in the program's style (float literals in float code)."""
        return Num(v, "float" if self.style == "float" else "double")

    def var(self, info: VarInfo) -> Expr:
        info.uses += 1
        e = Var(info.name, info.ctype)
        if info.role == "state" and info.mutable is False:
            e = Deref(info.name, info.ctype)
        e.iv = (info.lo, info.hi)
        e.deps = info.deps
        if info.ctype == "unsigned int":  # keep unsigned wrap-around out of arithmetic
            c = Cast("double", e)
            c.iv, c.deps = e.iv, e.deps
            return c
        return e

    def mk(self, node: Expr, iv, *parts) -> Expr:
        node.iv = (float(iv[0]), float(iv[1]))
        node.deps = frozenset().union(*[p.deps for p in parts]) if parts else frozenset()
        return node

    def bin(self, op, a, b) -> Expr:
        (al, ah), (bl, bh) = a.iv, b.iv
        if op == "+":
            iv = (al + bl, ah + bh)
        elif op == "-":
            iv = (al - bh, ah - bl)
        elif op == "*":
            ps = (al * bl, al * bh, ah * bl, ah * bh)
            iv = (min(ps), max(ps))
        elif op == "/":
            assert bl > 0 or bh < 0, "unguarded division"
            ps = (al / bl, al / bh, ah / bl, ah / bh)
            iv = (min(ps), max(ps))
        elif op in CMP_OPS or op in ("&&", "||"):
            iv = (0.0, 1.0)
        else:
            raise ValueError(op)
        return self.mk(Bin(op, a, b), iv, a, b)

    def call(self, fn, args, iv, ctype=None) -> Expr:
        if ctype is None:
            ctype = "float" if fn.endswith("f") and fn[:-1] in MATH1 | MATH2 else "double"
        return self.mk(Call(fn, args, ctype), iv, *args)

    def math_ret(self) -> str:
        """The C type math functions return in this program (float for sinf, expf, ...)."""
        return "float" if self.float_math else "double"

    def mathfn(self, name) -> str:
        return name + "f" if self.float_math else name

    # ------------------------------------------------------------------ leaves
    def pick_var(self, pred=None, prefer_unused=True) -> VarInfo | None:
        """A scalar in scope (not a named constant: `leaf` uses those as literals), favouring unused ones."""
        cands = [v for v in self.scope if v.role not in ("array", "table", "const") and (pred is None or pred(v))]
        if not cands:
            return None
        if prefer_unused:
            w = [1.0 / (1 + v.uses) ** 1.5 * (2.0 if v.role in ("input", "state") and v.uses == 0 else 1.0)
                 for v in cands]
            return self.rng.choices(cands, w)[0]
        return self.rng.choice(cands)

    def const_value(self, lo=-10.0, hi=10.0) -> float:
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice([0.5, 2.0, 0.25, 1.5, 3.0, 10.0, 0.1, 4.0, 0.75, 1e-3, 100.0, 0.01, 1.0])
        v = self.rng.uniform(lo, hi)
        return nice(v, self.rng.choice([2, 3, 3, 4]))

    def leaf(self) -> Expr:
        rng = self.rng
        r = rng.random()
        if r < 0.72:
            v = self.pick_var()
            if v is not None:
                return self.var(v)
        if r < 0.82:
            arrs = [v for v in self.scope if v.role in ("array", "table") and v.n and v.ctype in FLOAT_CTYPES]
            if arrs:
                a = rng.choice(arrs)
                a.uses += 1
                if self.loop_depth and rng.random() < 0.6:
                    loopv = [v for v in self.scope if v.role == "loop" and v.hi <= a.n - 1 and v.lo >= 0]
                    if loopv:
                        iv = self.var(loopv[-1])
                        return self.mk(Elem(a.name, iv, a.ctype), (a.lo, a.hi), iv)
                e = self.mk(Elem(a.name, Num(rng.randrange(a.n), "int"), a.ctype), (a.lo, a.hi))
                e.deps = a.deps
                return e
        consts = [v for v in self.scope if v.role == "const"]
        if consts and rng.random() < 0.35:
            return self.var(rng.choice(consts))
        return self.lit(self.const_value())

    # ------------------------------------------------------------------ guarded math
    def g_log(self, a: Expr) -> Expr:
        lo, hi = a.iv
        fn = self.mathfn(self.rng.choice(["log", "log", "log", "log10", "log1p"]))
        if fn.startswith("log1p"):
            if lo > -0.99:
                return self.call(fn, [a], (math.log1p(lo), math.log1p(hi)))
            fn = self.mathfn("log")
        if lo > 1e-9:
            f = math.log10 if fn.startswith("log10") else math.log
            return self.call(fn, [a], (f(lo), f(hi)))
        r = self.rng.random()
        if r < 0.4:
            inner = self.bin("+", self.lit(1.0), self.call(self.mathfn("fabs"), [a], (0.0, mag(a.iv))))
        elif r < 0.7:
            eps = self.rng.choice([1e-6, 1e-9, 1e-3, 1e-12])
            inner = self.call(self.mathfn("fmax"), [a, self.lit(eps)], (eps, max(hi, eps)))
        else:
            sq = self.bin("*", a, a)
            sq.iv = (0.0, sq.iv[1])
            inner = self.bin("+", sq, self.lit(self.rng.choice([1.0, 0.01, 1e-6])))
        f = math.log10 if fn.startswith("log10") else math.log
        return self.call(fn, [inner], (f(inner.iv[0]), f(max(inner.iv[1], inner.iv[0]))))

    def g_sqrt(self, a: Expr) -> Expr:
        lo, hi = a.iv
        fn = self.mathfn("sqrt")
        if lo >= 0:
            return self.call(fn, [a], (math.sqrt(lo), math.sqrt(hi)))
        r = self.rng.random()
        if r < 0.45:
            inner = self.call(self.mathfn("fabs"), [a], (0.0, mag(a.iv)))
        elif r < 0.8:
            inner = self.call(self.mathfn("fmax"), [a, self.lit(0.0)], (0.0, max(hi, 0.0)))
        else:
            inner = self.bin("+", self.bin("*", a, a), self.lit(1.0))
            inner.iv = (1.0, inner.iv[1])
        return self.call(fn, [inner], (math.sqrt(max(inner.iv[0], 0)), math.sqrt(max(inner.iv[1], 0))))

    def g_exp(self, a: Expr) -> Expr:
        m = mag(a.iv)
        if m > 8:  # scale the argument the way real code has rate constants: exp(-0.05 * t)
            k = nice(self.rng.uniform(1, 6) / m, 2)
            a = self.bin("*", self.lit(-k if self.rng.random() < 0.6 else k), a)
        fn = self.mathfn(self.rng.choice(["exp", "exp", "exp", "expm1"]))
        f = math.expm1 if fn.startswith("expm1") else math.exp
        return self.call(fn, [a], (f(a.iv[0]), f(a.iv[1])))

    def g_div(self, a: Expr, b: Expr) -> Expr:
        lo, hi = b.iv
        if lo > 1e-6 * max(1.0, mag(b.iv)) or hi < -1e-6 * max(1.0, mag(b.iv)):
            if mag(a.iv) / min(abs(lo), abs(hi)) < self.MAG_LIMIT:
                return self.bin("/", a, b)
        # Denominators that can reach zero: mostly softened on the denominator's own scale, as physical models
        # do (`r2 + eps2`), sometimes the bare guards of defensive code (`fabs(b) + 1e-9`, `b != 0 ? a / b : 0`),
        # which make outputs spike near b = 0 and so are kept rare.
        r = self.rng.random()
        m = max(mag(b.iv), 1e-6)
        if r < 0.1:
            eps = self.rng.choice([1e-6, 1e-9, 1e-3])
            den = self.bin("+", self.call(self.mathfn("fabs"), [b], (0.0, mag(b.iv))), self.lit(eps))
        elif r < 0.55:
            c = nice(m * self.rng.uniform(0.05, 1.0), 2)
            den = self.bin("+", self.call(self.mathfn("fabs"), [b], (0.0, mag(b.iv))), self.lit(c))
        elif r < 0.92:
            c = nice(m * m * self.rng.uniform(0.05, 1.0), 2)
            den = self.bin("+", self.lit(c), self.bin("*", b, b))
            den.iv = (c, den.iv[1])
        else:  # a guarded ternary, as in `fabs(b) > 1e-9 ? a / b : 0.0`
            eps = self.rng.choice([1e-9, 1e-6, 1e-3])
            test = self.bin(">", self.call(self.mathfn("fabs"), [b], (0.0, mag(b.iv))), self.lit(eps))
            q = self.mk(Bin("/", a, b), (-mag(a.iv) / eps, mag(a.iv) / eps), a, b)
            alt = self.lit(0.0) if self.rng.random() < 0.6 else a
            return self.tame(self.mk(Cond(test, q, alt), hull(q.iv, alt.iv), test, q, alt))
        den.iv = (max(den.iv[0], 1e-12), den.iv[1])
        return self.tame(self.bin("/", a, den))

    def tame(self, e: Expr) -> Expr:
        """Keep an intermediate below MAG_LIMIT by a realistic scale factor (or squash it with tanh/atan)."""
        if mag(e.iv) <= self.MAG_LIMIT:
            return e
        if self.rng.random() < 0.5:
            k = nice(self.rng.uniform(1, 100) / mag(e.iv), 2)
            return self.bin("*", e, self.lit(k))
        fn = self.rng.choice(["tanh", "atan"])
        k = nice(self.rng.uniform(0.5, 3) / max(mag(e.iv), 1e-30), 2)
        inner = self.bin("*", self.lit(k), e)
        bound = 1.0 if fn == "tanh" else math.pi / 2
        return self.call(self.mathfn(fn), [inner], (-bound, bound))

    def math_call(self, depth) -> Expr:
        rng = self.rng
        fn = rng.choices(
            ["sin", "cos", "exp", "log", "sqrt", "pow", "fabs", "fmin", "fmax", "atan2", "tanh", "floor", "fmod",
             "hypot", "atan", "ceil", "cbrt", "sinh", "cosh", "asin", "acos", "erf"],
            [10, 10, 8, 7, 8, 6, 6, 5, 5, 4, 4, 3, 3, 3, 3, 2, 2, 1, 1, 2, 2, 1])[0]
        a = self.expr(depth - 1)
        lo, hi = a.iv
        if fn in ("sin", "cos"):
            if mag(a.iv) > 100:
                a = self.bin("*", a, self.lit(nice(rng.uniform(1, 30) / mag(a.iv), 2)))
            return self.call(self.mathfn(fn), [a], (-1.0, 1.0))
        if fn == "exp":
            return self.g_exp(a)
        if fn == "log":
            return self.g_log(a)
        if fn == "sqrt":
            return self.g_sqrt(a)
        if fn == "cbrt":
            return self.call(self.mathfn(fn), [a], (math.copysign(abs(lo) ** (1 / 3), lo),
                                                    math.copysign(abs(hi) ** (1 / 3), hi)))
        if fn == "pow":
            p = rng.choice([2.0, 3.0, 0.5, 1.5, 2.5, -1.0, -0.5, 0.25, 1.0 / 3.0, 4.0])
            if p != int(p) or p < 0:
                if lo <= 1e-6:
                    a = self.bin("+", self.call(self.mathfn("fabs"), [a], (0.0, mag(a.iv))),
                                 self.lit(nice(max(mag(a.iv), 1e-3) * rng.uniform(0.02, 0.5), 2)))
            lo, hi = a.iv
            if mag(a.iv) ** abs(p) > self.MAG_LIMIT:
                p = rng.choice([0.5, 2.0]) if mag(a.iv) < 1000 else 0.5
                if lo < 0:
                    a = self.call(self.mathfn("fabs"), [a], (0.0, mag(a.iv)))
                    lo, hi = a.iv
            vals = [x ** p for x in (lo, hi) if not (x == 0 and p < 0)] + ([0.0] if lo < 0 < hi and p > 0 else [])
            if p != int(p) or p < 0:
                vals = [max(lo, 1e-12) ** p, max(hi, 1e-12) ** p]
            return self.call(self.mathfn("pow"), [a, self.lit(p)], (min(vals), max(vals)))
        if fn == "fabs":
            return self.call(self.mathfn(fn), [a], (0.0 if lo < 0 < hi else min(abs(lo), abs(hi)), mag(a.iv)))
        if fn in ("fmin", "fmax"):
            b = self.leaf() if rng.random() < 0.6 else self.expr(depth - 1)
            f = min if fn == "fmin" else max
            return self.call(self.mathfn(fn), [a, b], (f(lo, b.iv[0]), f(hi, b.iv[1])))
        if fn in ("atan2", "hypot"):
            b = self.expr(depth - 1)
            if fn == "atan2":
                return self.call(self.mathfn(fn), [a, b], (-math.pi, math.pi))
            return self.call(self.mathfn(fn), [a, b], (0.0, math.hypot(mag(a.iv), mag(b.iv))))
        if fn in ("tanh", "atan", "erf"):
            if mag(a.iv) > 20:
                a = self.bin("*", a, self.lit(nice(rng.uniform(1, 5) / mag(a.iv), 2)))
            b = math.pi / 2 if fn == "atan" else 1.0
            return self.call(self.mathfn(fn), [a], (-b, b))
        if fn in ("sinh", "cosh"):
            if mag(a.iv) > 5:
                a = self.bin("*", a, self.lit(nice(rng.uniform(1, 4) / mag(a.iv), 2)))
            f = math.sinh if fn == "sinh" else math.cosh
            vals = [f(a.iv[0]), f(a.iv[1])] + ([1.0] if fn == "cosh" else [])
            return self.call(self.mathfn(fn), [a], (min(vals), max(vals)))
        if fn in ("asin", "acos"):
            if lo < -1 or hi > 1:
                a = self.clamp_expr(a, -1.0, 1.0)
            return self.call(self.mathfn(fn), [a], (-math.pi / 2, math.pi / 2) if fn == "asin" else (0.0, math.pi))
        if fn in ("floor", "ceil"):
            if mag(a.iv) < 2:
                a = self.bin("*", a, self.lit(rng.choice([4.0, 8.0, 10.0, 16.0])))
            return self.call(self.mathfn(fn), [a], (math.floor(a.iv[0]), math.ceil(a.iv[1])))
        if fn == "fmod":
            m = mag(a.iv)
            c = nice(rng.uniform(0.1, 0.7) * m if m > 0 else 1.0, 2) or 1.0
            return self.call(self.mathfn(fn), [a, self.lit(c)], (-c if lo < 0 else 0.0, c))
        raise AssertionError(fn)

    def clamp_expr(self, a: Expr, lo: float, hi: float) -> Expr:
        """`fmin(fmax(a, lo), hi)`, or the ternary form."""
        if self.rng.random() < 0.6:
            inner = self.call(self.mathfn("fmax"), [a, self.lit(lo)], (max(a.iv[0], lo), max(a.iv[1], lo)))
            return self.call(self.mathfn("fmin"), [inner, self.lit(hi)], (min(inner.iv[0], hi), min(inner.iv[1], hi)))
        t1 = self.bin("<", a, self.lit(lo))
        t2 = self.bin(">", a, self.lit(hi))
        inner = self.mk(Cond(t2, self.lit(hi), a), (min(a.iv[0], hi), min(a.iv[1], hi)), t2, a)
        return self.mk(Cond(t1, self.lit(lo), inner), (lo, hi), t1, inner)

    # ------------------------------------------------------------------ expressions
    def expr(self, depth: int) -> Expr:
        """A floating expression of about `depth` levels over the scope."""
        rng = self.rng
        if depth <= 0 or rng.random() < 0.2:
            return self.leaf()
        r = rng.random()
        if r < 0.5:
            for _ in range(3):
                op = rng.choices(["+", "-", "*", "/"], [4, 3, 4, 2])[0]
                a = self.expr(depth - 1)
                b = self.expr(depth - 1) if rng.random() < 0.5 else self.leaf()
                if rng.random() < 0.5:
                    a, b = b, a
                if op == "/":
                    return self.g_div(a, b)
                e = self.bin(op, a, b)
                if mag(e.iv) <= self.MAG_LIMIT:
                    return e
            return self.tame(e)
        if r < 0.82:
            return self.math_call(depth)
        if r < 0.9:
            return self.ternary(depth)
        if self.helpers and r < 0.97:
            return self.helper_call(depth)
        return self.expr(depth - 1) if depth > 1 else self.leaf()

    def condition(self) -> Expr:
        """A comparison of a scoped value against a threshold inside its interval (so both sides occur)."""
        rng = self.rng
        v = self.pick_var(lambda v: v.hi > v.lo)
        a = self.var(v) if v is not None else self.expr(1)
        if rng.random() < 0.25:
            a = self.expr(1)
        lo, hi = a.iv
        if hi <= lo:
            hi = lo + 1
        thr = nice(rng.uniform(lo + 0.15 * (hi - lo), hi - 0.15 * (hi - lo)), 3)
        is_int = not is_float_type(a.ctype)
        t = Num(round(thr), "int") if is_int else self.lit(thr)
        c = self.bin(rng.choice(["<", "<=", ">", ">="]), a, t)
        if rng.random() < 0.2:
            c2 = self.condition_simple()
            c = self.bin(rng.choice(["&&", "||"]), c, c2)
        self.features["compare"] += 1
        return c

    def condition_simple(self) -> Expr:
        v = self.pick_var(lambda v: v.hi > v.lo)
        a = self.var(v) if v is not None else self.expr(1)
        thr = nice(self.rng.uniform(a.iv[0] + 0.2 * (a.iv[1] - a.iv[0]), a.iv[1] - 0.2 * (a.iv[1] - a.iv[0])), 3)
        t = Num(round(thr), "int") if not is_float_type(a.ctype) else self.lit(thr)
        return self.bin(self.rng.choice(["<", ">"]), a, t)

    def ternary(self, depth) -> Expr:
        c = self.condition()
        a = self.expr(depth - 1)
        b = self.comparable(self.expr(depth - 1), a)
        self.features["ternary"] += 1
        return self.mk(Cond(c, a, b), hull(a.iv, b.iv), c, a, b)

    def int_expr(self) -> Expr:
        """A small integer expression: int inputs, counters, casts of bounded floating values."""
        rng = self.rng
        ints = [v for v in self.scope if not is_float_type(v.ctype) and v.ctype != "unsigned int"
                and v.role not in ("array", "table")]
        r = rng.random()
        if ints and r < 0.5:
            a = self.var(rng.choice(ints))
            k = rng.randint(2, 7)
            op = rng.choice(["*", "+", "-", "%", "/"])
            if op == "%":
                e = self.mk(Bin("%", a, Num(k, "int")), (-(k - 1) if a.iv[0] < 0 else 0, k - 1), a)
            elif op == "/":
                e = self.mk(Bin("/", a, Num(k, "int")), (math.trunc(a.iv[0] / k), math.trunc(a.iv[1] / k)), a)
            else:
                e = self.bin(op, a, Num(k, "int"))
            return e
        f = self.varying_expr(1)
        lo, hi = f.iv
        if (mag(f.iv) > 1e5 or hi - lo < 2) and hi - lo > 1e-6:
            s = nice(rng.choice([4.0, 8.0, 10.0, 16.0, 100.0]) / max(hi - lo, 1e-9), 2)
            f = self.bin("*", f, self.lit(s))
            lo, hi = f.iv
        if mag(f.iv) > 1e8:
            f = self.clamp_expr(f, -1e6, 1e6)
            lo, hi = f.iv
        fl = self.call(self.mathfn("floor"), [f], (math.floor(lo), math.floor(hi))) if rng.random() < 0.5 else f
        self.features["cast_int"] += 1
        return self.mk(Cast("int", fl), (math.trunc(lo), math.trunc(hi)), fl)

    # ------------------------------------------------------------------ locals
    def new_local(self, e: Expr, ctype=None, pool=LOCAL_NAMES) -> VarInfo:
        ctype = ctype or (self.ftype if is_float_type(e.ctype) else "int")
        if self.style == "mixed" and is_float_type(ctype) and self.rng.random() < 0.3:
            ctype = self.rng.choice(["float", "double"])
        name = self.fresh(pool)
        info = VarInfo(name, ctype, e.iv[0], e.iv[1], "local", e.deps)
        if ctype == "int" and is_float_type(e.ctype):
            info.lo, info.hi = math.trunc(e.iv[0]), math.trunc(e.iv[1])
        self.body.append(Decl(ctype, name, e))
        self.scope.append(info)
        self.features["local"] += 1
        return info

    # ------------------------------------------------------------------ blocks
    def block_expr(self):
        self.new_local(self.varying_expr(self.rng.randint(1, 3)))

    def varying_expr(self, depth) -> Expr:
        """An expression that depends on some input (a few tries; constant folding is rare in real kernels)."""
        for _ in range(4):
            e = self.expr(depth)
            if e.deps:
                return e
        v = self.pick_var(lambda v: bool(v.deps))
        return self.bin("+", e, self.var(v)) if v is not None else e

    def block_poly(self):
        rng = self.rng
        v = self.pick_var(lambda v: is_float_type(v.ctype) or v.role == "input")
        if v is None:
            return self.block_expr()
        x = self.var(v)
        if mag(x.iv) > 4:  # normalise like real code does before a polynomial
            mid = nice((x.iv[0] + x.iv[1]) / 2, 3)
            half = nice(max((x.iv[1] - x.iv[0]) / 2, 1e-9), 3)
            xn = self.bin("-", x, self.lit(mid))
            xn = self.bin("/", xn, self.lit(half)) if rng.random() < 0.5 else self.bin("*", xn, self.lit(nice(1 / half, 3)))
            info = self.new_local(xn, pool=["t", "u", "xn", "tn", "s", "z"])
            x = self.var(info)
        deg = rng.randint(2, 6)
        coefs = [nice(rng.gauss(0, 1) / math.factorial(k) ** rng.choice([0, 0.5, 1]), 4) for k in range(deg + 1)]
        self.features["poly"] += 1
        if rng.random() < 0.35:  # coefficient table evaluated by Horner's rule in a loop
            tab = self.table(coefs, pool=["COEF", "POLY", "C", "P", "COEFS"])
            acc = self.new_local(self.lit(0.0), pool=["p", "acc", "poly", "y", "val"])
            i = self.loop_var(0, deg)
            horner = self.bin("+", self.bin("*", self.var(acc), x),
                              self.mk(Elem(tab.name, Var(i.name, "int"), tab.ctype), (tab.lo, tab.hi)))
            bound = sum(abs(c) * max(mag(x.iv), 1) ** k for k, c in enumerate(coefs))
            acc.lo, acc.hi, acc.deps = -bound, bound, x.deps
            self.body.append(Loop(i.name, Num(deg, "int"), Num(0, "int"), [Assign(Var(acc.name, acc.ctype), "=", horner)],
                                  cmp=">=", step=-1, declare=True))
            self.features["loop"] += 1
            return
        e = self.lit(coefs[-1])
        for c in reversed(coefs[:-1]):
            e = self.bin("+", self.lit(c), self.bin("*", x, e)) if rng.random() < 0.7 else \
                self.bin("+", self.bin("*", e, x), self.lit(c))
        self.new_local(self.tame(e), pool=["p", "poly", "y", "approx", "fit", "est"])

    def block_clamp(self):
        rng = self.rng
        v = self.pick_var(lambda v: v.role == "local" and is_float_type(v.ctype) and v.hi > v.lo,
                          prefer_unused=False)
        if v is None:
            return self.block_expr()
        span = v.hi - v.lo
        lo = nice(v.lo + rng.uniform(0.0, 0.3) * span, 3)
        hi = nice(v.hi - rng.uniform(0.0, 0.3) * span, 3)
        if hi <= lo:
            return
        self.features["clamp"] += 1
        r = rng.random()
        tv = Var(v.name, v.ctype)
        if r < 0.4:
            self.body.append(If(self.bin("<", self.var(v), self.lit(lo)), [Assign(tv, "=", self.lit(lo))],
                                [If(self.bin(">", self.var(v), self.lit(hi)), [Assign(tv, "=", self.lit(hi))])]))
            self.features["if"] += 1
        elif r < 0.55:
            self.body.append(If(self.bin("<", self.var(v), self.lit(lo)), [Assign(tv, "=", self.lit(lo))]))
            self.body.append(If(self.bin(">", self.var(v), self.lit(hi)), [Assign(tv, "=", self.lit(hi))]))
            self.features["if"] += 2
        elif r < 0.8 or not self.helpers_named("clamp"):
            self.body.append(Assign(tv, "=", self.clamp_expr(self.var(v), lo, hi)))
        else:
            fn = self.helpers_named("clamp")[0]
            self.body.append(Assign(tv, "=", self.mk(Call(fn.name, [self.var(v), self.lit(lo), self.lit(hi)],
                                                          fn.ret), (lo, hi))))
        v.lo, v.hi = max(v.lo, lo), min(v.hi, hi)

    def helpers_named(self, kind):
        return [h.fn for h in self.helpers if h.kind == kind]

    def block_piecewise(self):
        rng = self.rng
        v = self.pick_var(lambda v: v.hi > v.lo)
        if v is None:
            return self.block_expr()
        k = rng.randint(2, 5)
        span = v.hi - v.lo
        cuts = sorted({nice(v.lo + span * c, 3) for c in sorted(rng.uniform(0.1, 0.9) for _ in range(k - 1))})
        is_int = not is_float_type(v.ctype)
        if is_int:
            cuts = sorted({round(c) for c in cuts if v.lo < round(c) <= v.hi})
            if not cuts:
                return self.block_expr()
        out_t = self.ftype
        name = self.fresh(LOCAL_NAMES)
        info = VarInfo(name, out_t, 0, 0, "local")
        cumulative = rng.random() < 0.35  # tariff-like: base + rate * (x - cut), continuous pieces
        branches = []
        base, prev_cut = 0.0, v.lo
        for j in range(len(cuts) + 1):
            if cumulative:
                rate = nice(rng.uniform(0.05, 3) * rng.choice([1, 1, -1]), 3)
                x = self.var(v)
                dx = self.bin("-", x, self.lit(prev_cut)) if prev_cut != 0 else x
                e = self.bin("*", self.lit(rate), dx)
                if base != 0:
                    e = self.bin("+", self.lit(nice(base, 4)), e)
                seg_end = cuts[j] if j < len(cuts) else v.hi
                base += rate * (seg_end - prev_cut)
                prev_cut = seg_end
            else:
                e = self.expr(rng.randint(0, 2)) if rng.random() < 0.3 else self.varying_expr(rng.randint(1, 2))
                if branches:
                    e = self.comparable(e, branches[0])
            branches.append(e)
        op = rng.choice(["<", "<="])
        chain = [Assign(Var(name, out_t), "=", branches[-1])]
        for c, e in zip(reversed(cuts), reversed(branches[:-1])):
            t = Num(c, "int") if is_int else self.lit(c)
            chain = [If(self.bin(op, self.var(v), t), [Assign(Var(name, out_t), "=", e)], chain)]
        info.lo, info.hi = hull(*[e.iv for e in branches])
        info.deps = frozenset(v.deps).union(*[e.deps for e in branches])
        self.body.append(Decl(out_t, name, None))
        self.body += chain
        self.scope.append(info)
        self.features["if"] += len(cuts)
        self.features["piecewise"] += 1

    def block_switch(self):
        rng = self.rng
        v = self.pick_var(lambda v: v.role == "input" and not is_float_type(v.ctype) and v.ctype != "unsigned int"
                          and v.hi - v.lo <= 12)
        if v is None:
            return self.block_piecewise()
        labels = list(range(int(v.lo), int(v.hi) + 1))
        rng.shuffle(labels)
        ncase = min(len(labels), rng.randint(2, 5))
        groups, pos = [], 0
        for j in range(ncase):
            if pos >= len(labels):
                break
            take = 2 if (rng.random() < 0.2 and pos + 2 <= len(labels) - 1) else 1
            groups.append(sorted(labels[pos:pos + take]))
            pos += take
        name = self.fresh(LOCAL_NAMES)
        out_t = self.ftype
        cases, ivs, deps = [], [], set(v.deps)
        first = None
        for g in sorted(groups):
            e = self.expr(rng.randint(0, 2))
            e = self.comparable(e, first) if first is not None else e
            first = first or e
            cases.append((g, [Assign(Var(name, out_t), "=", e)]))
            ivs.append(e.iv)
            deps |= e.deps
        d = self.comparable(self.expr(rng.randint(0, 1)), first)
        ivs.append(d.iv)
        deps |= d.deps
        self.body.append(Decl(out_t, name, None))
        names = {}
        if rng.random() < 0.3:  # the modes get names, as in `enum { MODE_LINEAR, MODE_QUAD, ... }`
            used = sorted({k for g, _ in cases for k in g})
            stem = rng.choice(["MODE", "KIND", "CH", "BAND", "OP", "SHAPE", "LVL"])
            members = [self.fresh([f"{stem}_{w}" for w in ("A", "B", "C", "D", "E", "LOW", "MID", "HIGH", "X", "Y")],
                                  upper=True) for _ in used]
            self.items.append(Enum(self.fresh(["mode", "kind", "op_t", ""]) if rng.random() < 0.4 else "",
                                   members, used))
            names = dict(zip(used, members))
            self.features["enum"] += 1
        self.body.append(Switch(self.var(v), cases, [Assign(Var(name, out_t), "=", d)], names))
        lo, hi = hull(*ivs)
        self.scope.append(VarInfo(name, out_t, lo, hi, "local", frozenset(deps)))
        self.features["switch"] += 1

    def loop_var(self, lo, hi) -> VarInfo:
        """A counter taking values lo..hi; in scope only inside `in_loop`."""
        name = self.fresh(["i", "j", "k", "it", "n", "step", "iter", "m"]) if self.rng.random() < 0.3 else \
            self.fresh(["i", "j", "k"])
        return VarInfo(name, "int", lo, hi, "loop")

    @contextmanager
    def helper_scope(self, pinfos):
        """Build a helper's body: its parameters are the scope (with file-scope constants and tables), and their
        names are reserved meanwhile so that the helper's locals do not shadow them."""
        saved = (self.scope, self.body, self.loop_depth)
        reserved = {p.name for p in pinfos} - self.used_names
        self.used_names |= reserved
        self.scope = [v for v in saved[0] if v.role in ("const", "table")] + list(pinfos)
        self.body, self.loop_depth = [], 0
        try:
            yield
        finally:
            self.scope, self.body, self.loop_depth = saved
            self.used_names -= reserved

    @contextmanager
    def in_loop(self, counter: VarInfo):
        self.scope.append(counter)
        self.loop_depth += 1
        try:
            yield counter
        finally:
            self.scope.remove(counter)
            self.loop_depth -= 1

    def block_accumulate(self, arr=None):
        """A counted loop accumulating a sum/product/extremum over an index, a table or an array input."""
        rng = self.rng
        arrays = [v for v in self.scope if v.n and is_float_type(v.ctype)
                  and (v.role == "array" or (v.role == "table" and rng.random() < 0.3))]
        n = rng.randint(3, 16)
        if arr is None:
            arr = rng.choice(arrays) if arrays and rng.random() < 0.8 else None
        if arr is not None:
            n = arr.n
        kind = rng.choice(["sum", "sum", "sum", "prod", "max", "min", "sumsq", "series"])
        if arr is None and kind in ("max", "min"):
            kind = "sum"
        init = {"sum": 0.0, "sumsq": 0.0, "series": 0.0, "prod": 1.0, "max": -1e30, "min": 1e30}[kind]
        if kind in ("max", "min") and arr is not None:
            acc = self.new_local(self.mk(Elem(arr.name, Num(0, "int"), arr.ctype), (arr.lo, arr.hi)),
                                 pool=["mx", "peak", "best", "lo_v", "hi_v", "m"])
            start = 1
        else:
            acc = self.new_local(self.lit(init), pool=["acc", "sum", "s", "total", "tot", "energy", "prod", "p"])
            start = 0
        stop = Num(n, "int")
        bounds = [v for v in self.scope if v.role == "input" and v.ctype == "int" and 1 <= v.hi <= 24 and v.lo >= 0]
        if arr is None and bounds and rng.random() < 0.5:  # a trip count from an int input
            bv = rng.choice(bounds)
            stop, n = self.var(bv), int(bv.hi)
        i = self.loop_var(start, n - 1)
        with self.in_loop(i):
            item = self.loop_item(arr, i, n)
        body = []
        ta = Var(acc.name, acc.ctype)
        if kind in ("sum", "series"):
            body.append(Assign(ta, "+=", item))
            acc.lo, acc.hi = n * min(item.iv[0], 0), n * max(item.iv[1], 0)
        elif kind == "sumsq":
            body.append(Assign(ta, "+=", self.bin("*", item, item)))
            acc.lo, acc.hi = 0.0, n * mag(item.iv) ** 2
        elif kind == "prod":
            m = mag(item.iv)
            if m ** n > 1e6 or m < 1e-3:
                item = self.bin("+", self.lit(1.0), self.bin("*", self.lit(nice(0.5 / max(m, 1e-9) / n, 2)), item))
            body.append(Assign(ta, "*=", item))
            lo_f = max(item.iv[0], 0) ** n if item.iv[0] > 0 else -mag(item.iv) ** n
            acc.lo, acc.hi = lo_f, mag(item.iv) ** n
        else:
            cmp = ">" if kind == "max" else "<"
            if rng.random() < 0.5:
                body.append(If(self.bin(cmp, item, self.var(acc)), [Assign(ta, "=", item)]))
                self.features["if"] += 1
            else:
                body.append(Assign(ta, "=", self.call(self.mathfn("fmax" if kind == "max" else "fmin"),
                                                      [self.var(acc), item], item.iv)))
            acc.lo, acc.hi = item.iv
        acc.deps = acc.deps | item.deps
        self.body.append(Loop(i.name, Num(start, "int"), stop, body, declare=rng.random() < 0.7))
        if not self.body[-1].declare:
            self.body.insert(self.first_stmt_index(), Decl("int", i.name))
        if kind == "sumsq" and rng.random() < 0.6:
            self.body.append(Assign(ta, "=", self.call(self.mathfn("sqrt"), [self.var(acc)], (0.0, math.sqrt(acc.hi)))))
            acc.lo, acc.hi = 0.0, math.sqrt(acc.hi)
        elif kind == "sum" and rng.random() < 0.3:
            self.body.append(Assign(ta, "/=", Num(n, "int") if rng.random() < 0.5 else self.lit(float(n))))
            acc.lo, acc.hi = acc.lo / n, acc.hi / n
        self.features["loop"] += 1
        self.features["accumulate"] += 1

    def loop_item(self, arr, i, n) -> Expr:
        """The term a loop accumulates: an array element (maybe weighted by a table) or a function of the index."""
        rng = self.rng
        if arr is not None:
            item = self.mk(Elem(arr.name, Var(i.name, "int"), arr.ctype), (arr.lo, arr.hi))
            item.deps = arr.deps
            arr.uses += 1
            if rng.random() < 0.5:
                tabs = [t for t in self.scope if t.role == "table" and t.n and t.n >= n and t is not arr]
                if not tabs:
                    vals = [nice(rng.uniform(-1, 1), 3) for _ in range(n)]
                    tab = self.table(vals, pool=["W", "WEIGHTS", "TAPS", "H", "COEF", "K"])
                    tabs = [tab]
                t = rng.choice(tabs)
                w = self.mk(Elem(t.name, Var(i.name, "int"), t.ctype), (t.lo, t.hi))
                item = self.bin("*", w, item)
            return item
        iv = self.var(i)
        e = self.expr(rng.randint(1, 2))
        if rng.random() < 0.5:
            item = self.call(self.mathfn(rng.choice(["sin", "cos"])),
                             [self.bin("*", iv, e) if mag(e.iv) < 50 else iv], (-1.0, 1.0))
            if rng.random() < 0.5:
                item = self.g_div(item, self.bin("+", self.var(i), self.lit(1.0)))
            return item
        return self.bin("*", e, self.bin("+", self.var(i), self.lit(nice(rng.uniform(0.5, 2), 2))))

    def first_stmt_index(self) -> int:
        """Where C89-style declarations go: after the other leading declarations."""
        k = 0
        while k < len(self.body) and isinstance(self.body[k], Decl) and self.body[k].init is None \
                and self.body[k].ctype == "int":
            k += 1
        return k

    def table(self, values, pool=TABLE_NAMES, cols=None) -> VarInfo:
        ctype = "float" if self.style == "float" else "double"
        name = self.fresh(pool, upper=True)
        self.items.append(Table(ctype, name, [nice(v, 4) for v in values], cols))
        info = VarInfo(name, ctype, min(values), max(values), "table", n=len(values) if not cols else None)
        self.scope.append(info)
        self.features["table"] += 1
        return info

    def block_table_interp(self):
        rng = self.rng
        v = self.pick_var(lambda v: is_float_type(v.ctype) and v.hi > v.lo)
        if v is None:
            return self.block_expr()
        k = rng.randint(5, 24)
        shape = rng.choice(["walk", "mono", "wave", "curve"])
        scale = 10 ** rng.uniform(-2, 3)
        vals, acc = [], rng.uniform(-1, 1)
        for j in range(k):
            if shape == "walk":
                acc += rng.gauss(0, 0.3)
            elif shape == "mono":
                acc += abs(rng.gauss(0, 0.3))
            elif shape == "wave":
                acc = math.sin(j * 0.6 + scale)
            else:
                acc = (j / (k - 1)) ** 1.7
            vals.append(acc * scale)
        tab = self.table(vals)
        x0, x1 = v.lo + rng.uniform(-0.1, 0.2) * (v.hi - v.lo), v.hi - rng.uniform(-0.1, 0.2) * (v.hi - v.lo)
        x0, x1 = nice(x0, 3), nice(x1, 3)
        if x1 <= x0:
            x1 = x0 + 1
        step = (x1 - x0) / (k - 1)
        self.features["table_lookup"] += 1
        x = self.var(v)
        if rng.random() < 0.5:
            t = self.bin("/", self.bin("-", x, self.lit(x0)), self.lit(nice(step, 5)))
        else:
            t = self.bin("*", self.bin("-", x, self.lit(x0)), self.lit(nice(1 / step, 5)))
        tv = self.new_local(t, pool=["t", "pos", "u", "fi", "s"])
        tv.ctype = self.ftype
        self.body[-1].ctype = self.ftype
        tvar = Var(tv.name, tv.ctype)
        if rng.random() < 0.25:  # nearest-entry lookup
            idx = self.mk(Cast("int", self.bin("+", self.clamp_expr(self.var(tv), 0.0, float(k - 1)), self.lit(0.5))),
                          (0, k - 1))
            ii = self.new_local(idx, "int", pool=["idx", "i0", "bin", "slot", "j"])
            self.new_local(self.mk(Elem(tab.name, Var(ii.name, "int"), tab.ctype), (tab.lo, tab.hi)),
                           pool=["val", "lut", "y", "w", "g"])
            return
        self.body.append(If(self.bin("<", self.var(tv), self.lit(0.0)), [Assign(tvar, "=", self.lit(0.0))]))
        self.body.append(If(self.bin(">", self.var(tv), self.lit(float(k - 1))), [Assign(tvar, "=", self.lit(float(k - 1)))]))
        self.features["if"] += 2
        tv.lo, tv.hi = 0.0, float(k - 1)
        ii = self.new_local(self.mk(Cast("int", self.var(tv)), (0, k - 1)), "int", pool=["i", "idx", "i0", "seg", "j"])
        self.body.append(If(self.bin(">", self.var(ii), Num(k - 2, "int")), [Assign(Var(ii.name, "int"), "=", Num(k - 2, "int"))]))
        ii.hi = k - 2
        fr = self.new_local(self.bin("-", self.var(tv), self.var(ii)), pool=["frac", "f", "w", "alpha", "mu"])
        e0 = self.mk(Elem(tab.name, Var(ii.name, "int"), tab.ctype), (tab.lo, tab.hi))
        e1 = self.mk(Elem(tab.name, self.bin("+", self.var(ii), Num(1, "int")), tab.ctype), (tab.lo, tab.hi))
        fvar = self.var(fr)
        if rng.random() < 0.5:
            e = self.bin("+", e0, self.bin("*", fvar, self.bin("-", e1, e0)))
        else:
            e = self.bin("+", self.bin("*", self.bin("-", self.lit(1.0), fvar), e0), self.bin("*", fvar, e1))
        e.iv = (tab.lo, tab.hi)
        e.deps = v.deps
        self.new_local(e, pool=["y", "val", "interp", "lut", "g", "cal"])
        self.features["interp"] += 1

    def helper_fn(self, kind) -> tuple[Function, list, tuple]:
        """A static helper: common small utilities or a random expression of its parameters."""
        rng = self.rng
        ft = self.ftype
        storage = rng.choice(["static", "static inline", "static inline"])
        if kind == "sq":
            p = [PDecl("x", ft)]
            body = [Return(Bin("*", Var("x", ft), Var("x", ft)))]
            fn = Function(self.fresh(["sq", "square", "sqr"]), ft, p, body, storage)
            return fn, None, None
        if kind == "lerp":
            p = [PDecl("a", ft), PDecl("b", ft), PDecl("t", ft)]
            body = [Return(Bin("+", Var("a", ft), Bin("*", Var("t", ft), Bin("-", Var("b", ft), Var("a", ft)))))]
            return Function(self.fresh(["lerp", "mix", "blend"]), ft, p, body, storage), None, None
        if kind == "clamp":
            p = [PDecl("x", ft), PDecl("lo", ft), PDecl("hi", ft)]
            x, lo, hi = Var("x", ft), Var("lo", ft), Var("hi", ft)
            body = [If(Bin("<", x, lo), [Return(lo)]), If(Bin(">", x, hi), [Return(hi)]), Return(x)] \
                if rng.random() < 0.5 else [Return(Cond(Bin("<", x, lo), lo, Cond(Bin(">", x, hi), hi, x)))]
            return Function(self.fresh(["clampd", "clamp", "clip", "limit"]), ft, p, body, storage), None, None
        if kind == "sigmoid":
            p = [PDecl("x", ft)]
            body = [Return(Bin("/", Num(1.0, ft), Bin("+", Num(1.0, ft), Call(self.mathfn("exp"), [Unary("-", Var("x", ft))],
                                                                              self.math_ret()))))]
            return Function(self.fresh(["sigmoid", "logistic", "squash"]), ft, p, body, storage), None, None
        if kind == "gauss":
            p = [PDecl("x", ft), PDecl("s", ft)]
            x, s = Var("x", ft), Var("s", ft)
            body = [Return(Call(self.mathfn("exp"), [Bin("/", Unary("-", Bin("*", x, x)),
                                                             Bin("*", Num(2.0, ft), Bin("*", s, s)))], self.math_ret()))]
            return Function(self.fresh(["gauss", "bump", "kernel", "window"]), ft, p, body, storage), None, None
        # a random helper over its own parameters: built in a nested scope
        nargs = rng.randint(1, 3)
        names = rng.sample(["x", "y", "t", "a", "b", "u", "v", "s", "r", "k"], nargs)
        pinfos = []
        for nm in names:
            lo, hi = rng.choice(RANGES)
            pinfos.append(VarInfo(nm, ft, lo, hi, "input", frozenset([nm])))
        with self.helper_scope(pinfos):
            if rng.random() < 0.2:  # an early exit, as in `if (x <= 0.0) return 0.0;`
                self.body.append(If(self.condition(), [Return(self.lit(self.const_value()))]))
                self.features["guard"] += 1
            for _ in range(rng.randint(0, 2)):
                self.block_expr()
            self.recount_uses()
            unused = self.body or any(p.uses == 0 for p in pinfos)
            e = self.output_expr() if unused or rng.random() < 0.5 else self.expr(rng.randint(1, 3))
            body = self.body + [Return(e)]
        res_iv = e.iv
        fn = Function(self.fresh(HELPER_NAMES), ft, [PDecl(nm, ft) for nm in names], body, storage)
        return fn, pinfos, res_iv

    def ensure_helper(self, kind=None) -> Helper:
        kind = kind or self.rng.choice(["sq", "lerp", "clamp", "sigmoid", "gauss", "random", "random", "random"])
        fn, pinfos, iv = self.helper_fn(kind)
        h = Helper(fn, kind, pinfos, iv)
        self.items.append(fn)
        self.helpers.append(h)
        self.features["helper"] += 1
        return h

    def helper_call(self, depth) -> Expr:
        h = self.rng.choice(self.helpers)
        fn, pinfos, iv = h.fn, h.pinfos, h.iv
        args = []
        for j, p in enumerate(fn.params):
            a = self.expr(depth - 1)
            if pinfos is not None:  # map the argument into the range the helper was built for
                a = self.fit_to(a, pinfos[j].lo, pinfos[j].hi)
            args.append(a)
        self.features["call_helper"] += 1
        if pinfos is not None:
            return self.mk(Call(fn.name, args, fn.ret), iv, *args)
        a0 = args[0].iv
        if h.kind == "sq":
            r = (0.0, mag(a0) ** 2)
        elif h.kind == "sigmoid":
            r = (0.0, 1.0)
        elif h.kind == "gauss":
            r = (0.0, 1.0)
            if args[1].iv[0] <= 1e-3 and args[1].iv[1] >= -1e-3:
                args[1] = self.bin("+", self.call(self.mathfn("fabs"), [args[1]], (0.0, mag(args[1].iv))),
                                   self.lit(0.1))
        elif h.kind == "clamp":
            lo = nice(args[0].iv[0] + 0.2 * (args[0].iv[1] - args[0].iv[0]), 3)
            hi = nice(args[0].iv[1] - 0.2 * (args[0].iv[1] - args[0].iv[0]), 3)
            if hi <= lo:
                hi = lo + 1.0
            args[1], args[2] = self.lit(lo), self.lit(hi)
            r = (lo, hi)
        else:  # lerp
            args[2] = self.fit_to(args[2], 0.0, 1.0)
            r = hull(args[0].iv, args[1].iv)
        return self.mk(Call(fn.name, args, fn.ret), r, *args)

    def comparable(self, e: Expr, ref: Expr) -> Expr:
        """`e` rescaled into `ref`'s interval when their magnitudes differ by more than 10x: the branches of real
        piecewise code are on one scale (a branch 1000x larger than the others makes a few spikes)."""
        me, mr = mag(e.iv), mag(ref.iv)
        if ref.iv[1] - ref.iv[0] < 1e-12 or (mr / 10 <= me <= mr * 10):
            return e
        return self.fit_to(e, ref.iv[0], ref.iv[1])

    def fit_to(self, a: Expr, lo, hi) -> Expr:
        """Affine-map an expression from its interval into [lo, hi] (with nice constants)."""
        al, ah = a.iv
        if al >= lo and ah <= hi:
            return a
        if ah - al < 1e-12:  # a constant outside the range the helper was built for: a constant inside
            return self.lit(nice(lo + (hi - lo) * self.rng.uniform(0.1, 0.9), 3))
        s = nice((hi - lo) / (ah - al), 2)
        o = nice(lo - al * s, 3)
        e = self.bin("+", self.bin("*", a, self.lit(s)), self.lit(o)) if abs(o) > 1e-12 else self.bin("*", a, self.lit(s))
        return e

    def block_iterate(self):
        rng = self.rng
        kind = rng.choice(["newton", "bisect", "babylon", "euler", "euler", "relax"])
        n = rng.randint(4, 30) if kind in ("euler", "relax") else rng.randint(4, 12) if kind != "bisect" \
            else rng.randint(20, 50)
        it = self.loop_var(0, n - 1)
        self.features["iterate"] += 1
        self.features["loop"] += 1
        if kind == "babylon":  # fixed-point square root of a positive quantity
            c = self.expr(1)
            if c.iv[0] <= 1e-6:
                c = self.bin("+", self.call(self.mathfn("fabs"), [c], (0.0, mag(c.iv))), self.lit(nice(rng.uniform(0.1, 2), 2)))
            cv = self.new_local(c, pool=["c", "target", "sq_in", "arg"])
            r = self.new_local(self.mk(Cond(self.bin(">", self.var(cv), self.lit(1.0)), self.var(cv), self.lit(1.0)),
                                       (1.0, max(cv.hi, 1.0)), self.var(cv)), pool=["r", "root", "est", "g"])
            upd = self.bin("*", self.lit(0.5), self.bin("+", self.var(r), self.mk(Bin("/", self.var(cv), self.var(r)),
                                                                                   (0, cv.hi))))
            self.body.append(Loop(it.name, Num(0, "int"), Num(n, "int"), [Assign(Var(r.name, r.ctype), "=", upd)]))
            r.lo, r.hi, r.deps = math.sqrt(max(cv.lo, 0)), max(cv.hi, 1.0), cv.deps
        elif kind in ("newton", "bisect"):
            h = self.ensure_helper("random")
            fn, pinfos, iv = h.fn, h.pinfos, h.iv
            lo, hi = pinfos[0].lo, pinfos[0].hi
            args_rest = [self.fit_to(self.expr(1), p.lo, p.hi) for p in pinfos[1:]]
            target = self.fit_to(self.expr(1), iv[0], iv[1]) if rng.random() < 0.5 else self.lit(nice((iv[0] + iv[1]) / 2, 3))
            tv = self.new_local(target, pool=["target", "goal", "level", "ref"])
            if kind == "bisect":
                a = self.new_local(self.lit(lo), pool=["lo", "left", "a"])
                b = self.new_local(self.lit(hi), pool=["hi", "right", "b"])
                mid_e = self.bin("*", self.lit(0.5), self.bin("+", self.var(a), self.var(b)))
                mid = self.fresh(["mid", "m", "c", "xm"])
                fm = Call(fn.name, [Var(mid, self.ftype)] + args_rest, fn.ret)
                body = [Decl(self.ftype, mid, mid_e),
                        If(Bin(">", Bin("-", fm, Var(tv.name, tv.ctype)), Num(0.0, self.ftype)),
                           [Assign(Var(b.name, b.ctype), "=", Var(mid, self.ftype))],
                           [Assign(Var(a.name, a.ctype), "=", Var(mid, self.ftype))])]
                self.body.append(Loop(it.name, Num(0, "int"), Num(n, "int"), body))
                res = self.mk(Bin("*", self.lit(0.5), Bin("+", Var(a.name, a.ctype), Var(b.name, b.ctype))), (lo, hi))
                res.deps = frozenset().union(tv.deps, *[x.deps for x in args_rest])
                self.new_local(res, pool=["root", "sol", "xr", "est"])
                a.lo, a.hi, b.lo, b.hi = lo, hi, lo, hi
                a.deps = b.deps = res.deps
                self.features["if"] += 1
            else:
                x = self.new_local(self.lit(nice((lo + hi) / 2, 3)), pool=["x", "xk", "guess", "est"])
                h = nice((hi - lo) * 1e-4, 2) or 1e-6
                xv = Var(x.name, x.ctype)
                gname, dname = self.fresh(["fx", "g", "r", "res"]), self.fresh(["dfx", "dg", "slope", "jac"])
                f0 = Bin("-", Call(fn.name, [xv] + args_rest, fn.ret), Var(tv.name, tv.ctype))
                f1 = Bin("-", Call(fn.name, [Bin("+", xv, Num(h, self.ftype))] + args_rest, fn.ret), Var(tv.name, tv.ctype))
                body = [Decl(self.ftype, gname, f0),
                        Decl(self.ftype, dname, Bin("/", Bin("-", f1, Var(gname, self.ftype)), Num(h, self.ftype))),
                        If(Bin(">", Call(self.mathfn("fabs"), [Var(dname, self.ftype)], self.math_ret()),
                               Num(1e-12, self.ftype)),
                           [Assign(xv, "-=", Bin("/", Var(gname, self.ftype), Var(dname, self.ftype)))]),
                        Assign(xv, "=", Call(self.mathfn("fmin"), [Call(self.mathfn("fmax"), [xv, Num(lo, self.ftype)],
                                                                        self.math_ret()),
                                                                   Num(hi, self.ftype)], self.math_ret()))]
                self.body.append(Loop(it.name, Num(0, "int"), Num(n, "int"), body))
                x.lo, x.hi = lo, hi
                x.deps = frozenset().union(tv.deps, *[a.deps for a in args_rest])
                self.features["if"] += 1
        elif kind == "relax":  # damped fixed-point iteration y <- y + w (f(y) - y) with bounded f
            y = self.new_local(self.expr(1), pool=["y", "state", "cur", "z"])
            with self.in_loop(it):
                f = self.call(self.mathfn(rng.choice(["tanh", "sin", "cos", "atan"])),
                              [self.fit_to(self.expr(1), -3, 3)], (-1, 1))
            w = nice(rng.uniform(0.1, 0.9), 2)
            self.body.append(Loop(it.name, Num(0, "int"), Num(n, "int"),
                                  [Assign(Var(y.name, y.ctype), "+=", self.bin("*", self.lit(w), self.bin("-", f, self.var(y))))]))
            y.lo, y.hi = min(y.lo, -1), max(y.hi, 1)
            y.deps = y.deps | f.deps
        else:  # explicit Euler steps of a damped system driven by the inputs
            k_states = rng.randint(1, 3)
            states = [self.new_local(self.expr(1) if rng.random() < 0.6 else self.lit(0.0),
                                     pool=["pos", "vel", "s", "q", "c", "temp", "x", "v", "h", "e"]) for _ in range(k_states)]
            dt = self.fresh(["dt", "h", "tau_step"])
            kk = [nice(rng.uniform(0.2, 5), 2) for _ in states]
            dtv = nice(rng.uniform(0.02, 0.8) / max(kk), 2)
            self.body.append(Decl(self.ftype, dt, self.lit(dtv)))
            body, derivs = [], []
            with self.in_loop(it):
                for j, s in enumerate(states):
                    drive = self.tame(self.expr(rng.randint(1, 2)))
                    if mag(drive.iv) > 1e3:
                        drive = self.bin("*", drive, self.lit(nice(100 / mag(drive.iv), 2)))
                    coupling = self.var(states[j - 1]) if j > 0 and rng.random() < 0.6 else None
                    de = self.bin("-", drive, self.bin("*", self.lit(kk[j]), self.var(s)))
                    if coupling is not None:
                        de = self.bin("+", de, self.bin("*", self.lit(nice(rng.uniform(-1, 1), 2)), coupling))
                    dn = self.fresh(["ds", "dv", "dx", "rate", "deriv", "flow", "dq"])
                    body.append(Decl(self.ftype, dn, de))
                    derivs.append((s, dn, drive))
            for s, dn, drive in derivs:
                body.append(Assign(Var(s.name, s.ctype), "+=", Bin("*", Var(dt, self.ftype), Var(dn, self.ftype))))
                bound = mag(drive.iv) * 3 / min(kk) + mag((s.lo, s.hi)) + 10
                s.lo, s.hi = -bound, bound
                s.deps = s.deps | drive.deps
            self.body.append(Loop(it.name, Num(0, "int"), Num(n, "int"), body))
            self.features["euler"] += 1

    def block_int(self):
        """Integer work: bins from a floating value, modular arithmetic, parity branches."""
        rng = self.rng
        e = self.int_expr()
        info = self.new_local(e, "int", pool=["k", "bin", "idx", "cnt", "q", "level_i", "nb", "code"])
        r = rng.random()
        if r < 0.4:
            k = self.var(info)
            if rng.random() < 0.5:
                k = self.mk(Cast(self.ftype, k), k.iv, k)
            f = self.bin("*", k, self.lit(nice(rng.uniform(0.01, 2), 2)))
            f.iv = (min(info.lo, info.hi) * 2, max(info.lo, info.hi) * 2)
            f.deps = info.deps
            self.new_local(f, pool=["fk", "q", "lvl", "off"])
        elif r < 0.7:
            c = self.mk(Bin("==", Bin("%", self.var(info), Num(2, "int")), Num(0, "int")), (0, 1), self.var(info))
            name = self.fresh(LOCAL_NAMES)
            a = self.expr(1)
            b = self.comparable(self.expr(1), a)
            self.body.append(Decl(self.ftype, name, None))
            self.body.append(If(c, [Assign(Var(name, self.ftype), "=", a)], [Assign(Var(name, self.ftype), "=", b)]))
            self.scope.append(VarInfo(name, self.ftype, *hull(a.iv, b.iv), "local", info.deps | a.deps | b.deps))
            self.features["if"] += 1

    def block_update(self):
        """Compound updates of an existing local: `v += ...`, `v *= ...`, conditional updates."""
        rng = self.rng
        v = self.pick_var(lambda v: v.role == "local" and is_float_type(v.ctype), prefer_unused=False)
        if v is None:
            return self.block_expr()
        e = self.tame(self.expr(rng.randint(1, 2)))
        op = rng.choice(["+=", "-=", "*=", "="])
        if op == "*=":
            if mag(e.iv) * mag((v.lo, v.hi)) > self.MAG_LIMIT:
                op = "+="
        stmt = Assign(Var(v.name, v.ctype), op, e)
        if op == "+=":
            v.lo, v.hi = v.lo + e.iv[0], v.hi + e.iv[1]
        elif op == "-=":
            v.lo, v.hi = v.lo - e.iv[1], v.hi - e.iv[0]
        elif op == "*=":
            ps = [a * b for a in (v.lo, v.hi) for b in e.iv]
            v.lo, v.hi = min(ps), max(ps)
        else:
            v.lo, v.hi = e.iv
        if rng.random() < 0.35:
            c = self.condition()
            stmt = If(c, [stmt])
            v.lo, v.hi = min(v.lo, e.iv[0]), max(v.hi, e.iv[1])
            v.deps = v.deps | c.deps
            self.features["if"] += 1
        v.deps = v.deps | e.deps
        self.body.append(stmt)
        if mag((v.lo, v.hi)) > self.MAG_LIMIT:
            self.body.append(Assign(Var(v.name, v.ctype), "*=", self.lit(nice(100 / mag((v.lo, v.hi)), 2))))
            s = 100 / mag((v.lo, v.hi))
            v.lo, v.hi = v.lo * s, v.hi * s

    def block_matvec(self):
        """A small matrix (2-D constant table) times a vector of scoped values."""
        rng = self.rng
        n = rng.randint(2, 4)
        m = rng.randint(2, 4)
        vals = [nice(rng.uniform(-1.5, 1.5), 3) for _ in range(n * m)]
        ctype = self.ftype
        name = self.fresh(["M", "A", "MAT", "XFORM", "K", "R"], upper=True)
        self.items.append(Table(ctype, name, vals, cols=m))
        self.features["table"] += 1
        self.features["matrix"] += 1
        vec = [self.var(v) if (v := self.pick_var()) else self.leaf() for _ in range(m)]
        outs = []
        for r in range(n):
            e = None
            for c in range(m):
                t = self.mk(Elem(name, Num(r, "int"), ctype, Num(c, "int")), (vals[r * m + c],) * 2)
                t = self.bin("*", t, vec[c])
                e = t if e is None else self.bin("+", e, t)
            outs.append(self.new_local(e, pool=["o", "r", "c", "u", "w", "m", "p"]))

    # ------------------------------------------------------------------ the whole program
    def build(self) -> Unit:
        rng = self.rng
        ft = self.ftype
        self.body = []
        params = self.make_inputs()
        # file-scope constants first (real code puts them at the top)
        for _ in range(rng.choices([0, 1, 2, 3], [4, 3, 2, 1])[0]):
            name = self.fresh(CONST_NAMES, upper=True)
            val = self.const_value(-20, 20) if rng.random() < 0.7 else nice(10 ** rng.uniform(-4, 4), 3)
            val = NAMED_CONSTANTS.get(name, val)
            e = Num(val, ft)
            if rng.random() < 0.5:
                self.items.append(Define(name, e))
            else:
                self.items.append(Const(ft, name, e))
            self.scope.append(VarInfo(name, ft, val, val, "const"))
            self.features["const"] += 1
        if rng.random() < 0.25:
            self.table([nice(rng.uniform(-2, 2), 3) for _ in range(rng.randint(3, 12))])
        for _ in range(rng.choices([0, 1, 2], [5, 3, 1])[0]):
            self.ensure_helper()
        blocks = [self.block_expr, self.block_poly, self.block_clamp, self.block_piecewise, self.block_switch,
                  self.block_accumulate, self.block_table_interp, self.block_iterate, self.block_int,
                  self.block_update, self.block_matvec, self.block_vector, self.block_multi_out]
        weights = [10, 3, 3, 3, 2, 3, 2, 2, 2, 3, 1, 1.5, 1]
        if any(v.role == "input" and not is_float_type(v.ctype) for v in self.scope):
            weights[4] = 5
        if any(v.role == "array" for v in self.scope):
            weights[5] = 8
        self.plan = self.plan_outputs(params)
        if self.plan[0] != "void" and self.plan[1:] == (0, 0) and rng.random() < 0.25:
            self.block_guard()
        for _ in range(rng.randint(1, 7)):
            rng.choices(blocks, weights)[0]()
        self.use_leftovers()
        ret, outs = self.make_outputs(params)
        storage = ""
        name = f"{rng.choice(FUNC_VERBS)}_{rng.choice(FUNC_NOUNS)}"
        self.used_names.add(name)
        target = Function(name, ret, params, self.body, storage)
        style = {"indent": rng.choice(["    ", "    ", "  ", "\t"]), "braces": rng.choice(["always", "minimal"])}
        return Unit(self.items, target, style)

    def block_guard(self):
        """A guard clause: `if (cond) return value;` (the function returns only its return value)."""
        rng = self.rng
        c = self.condition()
        ret = self.plan[0]
        if is_float_type(ret):
            v = self.lit(self.const_value()) if rng.random() < 0.6 else self.varying_expr(1)
        else:
            v = Num(rng.randint(-1, 3), "int")
        self.body.append(If(c, [Return(v)]))
        self.features["guard"] += 1

    def block_vector(self):
        """Small local vectors filled from scoped values and combined by helpers taking array parameters:
        a reduction (dot product, norm) or a void helper writing an output array."""
        rng = self.rng
        ft = self.ftype
        n = rng.randint(2, 4)
        vecs = []
        for _ in range(2):
            name = self.fresh(["va", "vb", "d1", "d2", "e1", "e2", "u", "w", "edge", "rel", "dir", "nrm", "col"])
            self.body.append(Decl(ft, name, None, n))
            ivs = []
            for k in range(n):
                e = self.tame(self.varying_expr(rng.randint(0, 2)))
                self.body.append(Assign(Elem(name, Num(k, "int"), ft), "=", e))
                ivs.append(e.iv)
            lo, hi = hull(*ivs)
            vecs.append(VarInfo(name, ft, lo, hi, "array", frozenset().union(*[]), n=n, uses=1))
        a, b = vecs
        i = "i"
        ap, bp, op = PDecl("a", ft, "array_const", n), PDecl("b", ft, "array_const", n), PDecl("out", ft, "array_out", n)
        ea, eb = Elem("a", Var(i, "int"), ft), Elem("b", Var(i, "int"), ft)
        kind = rng.choice(["dot", "dist", "comb"])
        storage = rng.choice(["static", "static inline"])
        if kind in ("dot", "dist"):
            term = Bin("*", ea, eb) if kind == "dot" else Bin("*", Bin("-", ea, eb), Bin("-", copy_expr(ea), copy_expr(eb)))
            body = [Decl(ft, "s", Num(0.0, ft)), Loop(i, Num(0, "int"), Num(n, "int"), [Assign(Var("s", ft), "+=", term)])]
            body.append(Return(Var("s", ft) if kind == "dot" else Call(self.mathfn("sqrt"), [Var("s", ft)], self.math_ret())))
            fn = Function(self.fresh(["dot", "dot3", "inner", "dist", "norm_diff"]), ft, [ap, bp], body, storage)
            m = max(mag((a.lo, a.hi)), mag((b.lo, b.hi)))
            iv = (-n * m * m, n * m * m) if kind == "dot" else (0.0, 2 * math.sqrt(n) * m)
            call = self.mk(Call(fn.name, [Var(a.name, ft), Var(b.name, ft)], ft), iv)
            self.items.append(fn)
            self.new_local(self.tame(call), pool=["proj", "dotp", "d", "len2", "cosv", "dist"])
        else:
            w = nice(rng.uniform(-2, 2), 2)
            body = [Loop(i, Num(0, "int"), Num(n, "int"),
                         [Assign(Elem("out", Var(i, "int"), ft), "=", Bin("+", ea, Bin("*", Num(w, ft), eb)))])]
            fn = Function(self.fresh(["axpy", "combine", "madd", "blend_v", "offset_v"]), "void", [ap, bp, op], body,
                          storage)
            self.items.append(fn)
            cname = self.fresh(["vc", "res_v", "sumv", "mixv", "acc_v"])
            self.body.append(Decl(ft, cname, None, n))
            self.body.append(ExprStmt(Call(fn.name, [Var(a.name, ft), Var(b.name, ft), Var(cname, ft)], "void")))
            m = mag((a.lo, a.hi)) + abs(w) * mag((b.lo, b.hi))
            self.scope.append(VarInfo(cname, ft, -m, m, "array", frozenset(["?"]), n=n))
        self.features["local_array"] += 1
        self.features["helper"] += 1

    def block_multi_out(self):
        """A void helper returning two or three values through pointers: `polar(x, y, &r, &t);`."""
        rng = self.rng
        ft = self.ftype
        nargs, nouts = rng.randint(1, 3), rng.randint(2, 3)
        names = rng.sample(["x", "y", "t", "a", "b", "u", "s"], nargs)
        onames = rng.sample(["r", "th", "lo", "hi", "mag", "ph", "sv", "cv"], nouts)
        pinfos = [VarInfo(nm, ft, *rng.choice(RANGES), "input", frozenset([nm])) for nm in names]
        ivs = []
        with self.helper_scope(pinfos + [VarInfo(o, ft, 0, 0, "out") for o in onames]):
            self.scope = [v for v in self.scope if v.role != "out"]
            for o in onames:
                e = self.varying_expr(rng.randint(1, 2))
                self.body.append(Assign(Deref(o, ft), "=", e))
                ivs.append(e.iv)
            hbody = self.body
        fn = Function(self.fresh(["polar", "split", "decompose", "eval2", "sincos_fn", "bounds", "minmax"]), "void",
                      [PDecl(nm, ft) for nm in names] + [PDecl(o, ft, "ptr_out") for o in onames], hbody,
                      rng.choice(["static", "static inline"]))
        self.items.append(fn)
        args = [self.fit_to(self.varying_expr(1), p.lo, p.hi) for p in pinfos]
        locals_ = []
        for o, iv in zip(onames, ivs):
            ln = self.fresh(LOCAL_NAMES)
            self.body.append(Decl(ft, ln, None))
            locals_.append(ln)
            self.scope.append(VarInfo(ln, ft, iv[0], iv[1], "local", frozenset().union(*[a.deps for a in args])))
        self.body.append(ExprStmt(Call(fn.name, args + [AddrOf(ln, ft) for ln in locals_], "void")))
        self.features["helper"] += 1
        self.features["addr_of"] += 1

    def use_leftovers(self):
        """Real kernels use every parameter and every local: fold unused ones into new locals, leaving at most
        three for the outputs to pick up."""
        rng = self.rng
        self.recount_uses()
        for a in [v for v in self.scope if v.role == "array" and v.uses == 0]:
            self.block_accumulate(arr=a)
        while True:
            unused = [v for v in self.scope if v.role in ("input", "state", "local") and v.uses == 0]
            if len(unused) <= 3:
                return
            group = unused[:rng.randint(2, 3)]
            e = self.var(group[0])
            for v in group[1:]:
                b = self.var(v)
                if rng.random() < 0.4 and is_float_type(b.ctype):
                    b = self.math_on(b)
                e2 = self.bin(rng.choice(["+", "-", "*"]), e, b)
                e = e2 if mag(e2.iv) <= self.MAG_LIMIT else self.bin("+", e, b)
            self.new_local(self.tame(e))

    def recount_uses(self):
        """Set `uses` from the statements actually kept (expressions built and then discarded counted too)."""
        refs = referenced_names(self.body)
        for v in self.scope:
            if v.role in ("input", "state", "array"):
                v.uses = refs[v.name]
            elif v.role == "local":  # its declaration/assignments are not uses
                v.uses = refs[v.name] - sum(1 for s in walk_assign_targets(self.body) if s == v.name)

    def math_on(self, a: Expr) -> Expr:
        """A guarded one-argument math function of a given expression."""
        fn = self.rng.choice(["sin", "cos", "tanh", "fabs", "sqrt", "exp", "log"])
        if fn == "sqrt":
            return self.g_sqrt(a)
        if fn == "exp":
            return self.g_exp(a)
        if fn == "log":
            return self.g_log(a)
        if fn == "fabs":
            return self.call(self.mathfn(fn), [a], (0.0, mag(a.iv)))
        if mag(a.iv) > 100:
            a = self.bin("*", a, self.lit(nice(self.rng.uniform(1, 10) / mag(a.iv), 2)))
        return self.call(self.mathfn(fn), [a], (-1.0, 1.0))

    def make_inputs(self) -> list[PDecl]:
        rng = self.rng
        ft = self.ftype
        n_scalar = rng.choices(range(1, 13), [6, 12, 12, 10, 8, 6, 4, 3, 2, 2, 1, 1])[0]
        params = []
        n_int = 0
        for _ in range(n_scalar):
            r = rng.random()
            if r < 0.16:
                ctype = rng.choices(["int", "unsigned char", "short", "unsigned int"], [8, 1, 1, 1])[0]
                lo, hi = rng.choice(INT_RANGES)
                if ctype in ("unsigned char", "unsigned int"):
                    lo = max(lo, 0)
                    hi = max(hi, lo + 1)
                name = self.fresh(INT_NAMES)
                n_int += 1
            else:
                ctype = ft if self.style != "mixed" else rng.choice(["float", "double", "double"])
                lo, hi = rng.choice(RANGES)
                if rng.random() < 0.3:  # rescale the range family for variety
                    s = 10 ** rng.choice([-2, -1, 1, 2, 3])
                    lo, hi = nice(lo * s, 3), nice(hi * s, 3)
                name = self.fresh(SCALAR_NAMES)
            params.append(PDecl(name, ctype, "scalar", lo=lo, hi=hi))
            self.scope.append(VarInfo(name, ctype, lo, hi, "input", frozenset([name])))
        cols = n_scalar
        if rng.random() < 0.3 and cols < 28:
            n = rng.choice([2, 3, 4, 4, 5, 6, 8, 8, 9, 10, 12, 16])
            n = min(n, 32 - cols)
            if n >= 2:
                lo, hi = rng.choice(RANGES)
                name = self.fresh(ARRAY_NAMES)
                kind = "ptr_in" if rng.random() < 0.3 else "array_in"
                params.insert(rng.randint(0, len(params)), PDecl(name, ft, kind, n=n, lo=lo, hi=hi))
                self.scope.append(VarInfo(name, ft, lo, hi, "array", frozenset([name]), n=n))
                self.features["array_in"] += 1
                cols += n
        if rng.random() < 0.08 and cols <= 30:  # in-out state, as in `void step(double *x, double *v, ...)`
            for _ in range(rng.randint(1, 2)):
                lo, hi = rng.choice(RANGES)
                name = self.fresh(["state", "pos", "vel", "x", "v", "acc_s", "level", "charge"])
                params.insert(0, PDecl(name, ft, "inout", lo=lo, hi=hi))
                self.scope.append(VarInfo(name, ft, lo, hi, "state", frozenset([name])))
                self.features["inout"] += 1
        self.features["inputs_int"] += n_int
        self.features["inputs"] += cols
        return params

    def output_expr(self) -> Expr:
        """An output value: built from the least-used scoped values so that the computation is not dead code
        (all the still-unused ones go into the first output)."""
        rng = self.rng
        cands = [v for v in self.scope if v.role in ("local", "input", "state") and (v.deps or v.uses == 0)]
        cands.sort(key=lambda v: (v.uses, -self.scope.index(v)))
        take = cands[:max(rng.randint(1, 3), sum(v.uses == 0 for v in cands))]
        if not take:
            return self.expr(2)
        e = self.var(take[0])
        for v in take[1:]:
            op = rng.choice(["+", "-", "*", "+"])
            b = self.var(v)
            if rng.random() < 0.4:
                b = self.bin("*", b, self.lit(self.const_value(-3, 3) or 1.0))
            e2 = self.bin(op, e, b)
            e = e2 if mag(e2.iv) < 1e9 else self.bin("+", e, b)
        if rng.random() < 0.3:
            e = self.bin("+", e, self.expr(1))
        if rng.random() < 0.3:  # output scale varies widely across programs
            e = self.bin("*", self.lit(nice(10 ** rng.uniform(-3, 4), 2)), e)
        return e

    def plan_outputs(self, params) -> tuple[str, int, int]:
        """(return type, pointer outputs, array output length), decided before the body (guards need it)."""
        rng = self.rng
        has_state = any(p.kind == "inout" for p in params)
        ret = "void"
        if rng.random() < 0.55 and not has_state:
            ret = self.ftype if rng.random() < 0.92 else "int"
        n_ptr = 0 if ret != "void" and rng.random() < 0.7 else rng.choices([0, 1, 2, 3], [1, 4, 3, 1])[0]
        if ret == "void" and not has_state and n_ptr == 0:
            n_ptr = 1
        n_arr = rng.choice([0, 0, 0, 2, 3, 3, 4, 6, 8]) if (ret == "void" or rng.random() < 0.2) else 0
        return ret, n_ptr, n_arr

    def make_outputs(self, params) -> tuple[str, list]:
        rng = self.rng
        self.recount_uses()
        ft = self.ftype
        ret, n_ptr, n_arr = self.plan
        for _ in range(n_ptr):
            name = self.fresh(OUT_NAMES)
            params.append(PDecl(name, ft, "ptr_out"))
            self.body.append(Assign(Deref(name, ft), "=", self.output_expr()))
        if n_arr:
            name = self.fresh(OUT_NAMES)
            n_arr = min(n_arr, 16 - n_ptr - (ret != "void"))
            otype = ft if self.style != "mixed" else rng.choice(["float", "double"])
            params.append(PDecl(name, otype, "array_out", n=n_arr))
            self.features["array_out"] += 1
            if rng.random() < 0.4:  # out[i] = base * W[i] + offset in a loop
                base = self.output_expr()
                bl = self.new_local(base, pool=["base", "b0", "common", "core"])
                tab = self.table([nice(rng.uniform(-2, 2), 3) for _ in range(n_arr)], pool=["W", "GAINS", "MIX", "K"])
                i = self.fresh(["i", "j", "k"])
                self.loop_depth += 1
                extra = self.output_expr()
                self.loop_depth -= 1
                e = self.bin("+", self.bin("*", self.mk(Elem(tab.name, Var(i, "int"), tab.ctype), (tab.lo, tab.hi)),
                                           self.var(bl)), extra if rng.random() < 0.5 else self.lit(self.const_value()))
                self.body.append(Loop(i, Num(0, "int"), Num(n_arr, "int"), [Assign(Elem(name, Var(i, "int"), otype), "=", e)]))
                self.features["loop"] += 1
            else:
                for j in range(n_arr):
                    self.body.append(Assign(Elem(name, Num(j, "int"), otype), "=", self.output_expr()))
        for p in params:
            if p.kind == "inout":
                st = next(v for v in self.scope if v.name == p.name)
                e = self.output_expr()
                op = rng.choice(["=", "+="])
                if op == "+=":
                    e = self.bin("*", self.lit(nice(rng.uniform(0.01, 0.5), 2)), e)
                self.body.append(Assign(Deref(p.name, p.ctype), op, e))
        if ret != "void":
            e = self.output_expr()
            if ret == "int":
                lo, hi = e.iv
                if hi - lo < 4 or mag(e.iv) > 1e6:
                    s = nice(10 / max(hi - lo, 1e-9), 2)
                    e = self.bin("*", e, self.lit(s))
                e = self.mk(Cast("int", self.call(self.mathfn("floor"), [e], e.iv) if rng.random() < 0.5 else e),
                            e.iv, e)
            self.body.append(Return(e))
        self.features["outputs"] += n_ptr + n_arr + (ret != "void") + sum(p.kind == "inout" for p in params)
        return ret, params


MATH1 = {"sin", "cos", "tan", "exp", "expm1", "log", "log10", "log1p", "sqrt", "cbrt", "fabs", "tanh", "atan", "floor",
         "ceil", "sinh", "cosh", "asin", "acos", "erf"}
MATH2 = {"pow", "fmin", "fmax", "atan2", "hypot", "fmod"}


def referenced_names(stmts) -> Counter:
    """How often each name is referred to by the expressions in `stmts` (variables, arrays, called functions);
    assignment targets count too."""
    names = Counter()

    def walk_expr(e):
        if isinstance(e, (Var, Elem, Deref, AddrOf)):
            names[e.name] += 1
        elif isinstance(e, Call):
            names[e.fn] += 1
        for ch in e.children():
            walk_expr(ch)

    def walk(ss):
        for s in ss:
            for e in stmt_exprs(s):
                walk_expr(e)
            for b in s.blocks():
                walk(b)

    walk(stmts)
    return names


def walk_assign_targets(stmts):
    """Names assigned by `=`-family statements in `stmts` (nested blocks included)."""
    for s in stmts:
        if isinstance(s, Assign) and isinstance(s.target, (Var, Elem, Deref)):
            yield s.target.name
        for b in s.blocks():
            yield from walk_assign_targets(b)


def stmt_exprs(s: Stmt) -> list[Expr]:
    """The expressions directly inside one statement (not those of nested blocks)."""
    if isinstance(s, Decl):
        return [s.init] if s.init is not None else []
    if isinstance(s, Assign):
        return [s.target, s.value]
    if isinstance(s, If):
        return [s.cond]
    if isinstance(s, Loop):
        return [s.start, s.stop]
    if isinstance(s, Switch):
        return [s.subject]
    if isinstance(s, Return):
        return [s.value]
    if isinstance(s, ExprStmt):
        return [s.expr]
    return []


def prune_unused(unit: Unit) -> Unit:
    """Drop file-scope items (helpers, constants, tables) that the target does not reach."""
    by_name = {it.name: it for it in unit.items}
    reached, todo = set(), [unit.target]
    while todo:
        fn = todo.pop()
        for n in referenced_names(fn.body):
            if n in by_name and n not in reached:
                reached.add(n)
                if isinstance(by_name[n], Function):
                    todo.append(by_name[n])
                elif isinstance(by_name[n], (Define, Const)):
                    pass
    unit.items = [it for it in unit.items if it.name in reached or isinstance(it, Enum)]
    return unit


def construct_counts(unit: Unit) -> Counter:
    """Counts of constructs in a program (for diversity checks and coverage); derived from the IR only."""
    c = Counter()

    def walk_expr(e):
        if isinstance(e, Call):
            c["call:" + e.fn if (e.fn in MATH1 | MATH2 or e.fn[:-1] in MATH1 | MATH2) else "call:helper"] += 1
        if isinstance(e, Cond):
            c["ternary"] += 1
        if isinstance(e, Cast):
            c["cast"] += 1
        if isinstance(e, Bin):
            c["op" + e.op] += 1
        for ch in e.children():
            walk_expr(ch)

    def walk(stmts):
        for s in stmts:
            c["stmt"] += 1
            if isinstance(s, Decl):
                c["decl:" + s.ctype + ("[]" if s.length else "")] += 1
                if s.init is not None:
                    walk_expr(s.init)
            elif isinstance(s, Assign):
                c["assign" + s.op] += 1
                walk_expr(s.value)
                walk_expr(s.target)
            elif isinstance(s, If):
                c["if"] += 1
                c["else"] += bool(s.orelse)
                walk_expr(s.cond)
            elif isinstance(s, Loop):
                c[s.form] += 1
                walk_expr(s.stop)
            elif isinstance(s, Switch):
                c["switch"] += 1
                walk_expr(s.subject)
            elif isinstance(s, Return):
                walk_expr(s.value)
                c["return"] += 1
            elif isinstance(s, ExprStmt):
                c["call_stmt"] += 1
                walk_expr(s.expr)
            for b in s.blocks():
                walk(b)

    for it in unit.items:
        if isinstance(it, Function):
            c["helper"] += 1
            c["helper:" + it.storage] += 1
            walk(it.body)
        elif isinstance(it, Table):
            c["table2d" if it.cols else "table"] += 1
        elif isinstance(it, Define):
            c["define"] += 1
        elif isinstance(it, Const):
            c["static_const"] += 1
        elif isinstance(it, Enum):
            c["enum"] += 1
    walk(unit.target.body)
    for p in unit.target.params:
        c["param:" + p.kind] += 1
        if p.kind == "scalar" and not is_float_type(p.ctype):
            c["param:int"] += 1
        c["type:" + p.ctype] += 1
    c["ret:" + unit.target.ret] += 1
    return c


def generate_program(seed: int) -> GeneratedProgram:
    """One synthetic kernel, deterministic in `seed`."""
    b = ProgramBuilder(seed)
    unit = prune_unused(b.build())
    return GeneratedProgram(unit.target.name, emit_unit(unit), seed, unit, construct_counts(unit))


def signature_of(unit: Unit):
    """The Signature the front-end gives the target (NOTES.md section 2), built from the IR: inputs in parameter
    order (arrays element by element), outputs the return value then the written pointer/array parameters.
    Used to cross-check the front-end and to run programs in tests without parsing them."""
    from nsc.frontend.program import Param, Port, Signature

    fn = unit.target
    params, inputs, outputs = [], [], []
    ret = None if fn.ret == "void" else fn.ret
    if ret is not None:
        outputs.append(Port("return", "return", None, ret))
    for p in fn.params:
        pointer = p.kind in ("ptr_in", "ptr_out", "inout")
        shape = p.n if p.kind in ("array_in", "ptr_in", "array_out") else (1 if pointer else None)
        writes = p.kind in ("ptr_out", "array_out", "inout")
        params.append(Param(p.name, p.ctype, shape, pointer, p.kind in ("array_in", "ptr_in"),
                            reads=p.is_input, writes=writes))
        lo, hi = float(p.lo) if p.lo is not None else None, float(p.hi) if p.hi is not None else None
        if p.kind in ("array_in", "ptr_in"):
            inputs += [Port(f"{p.name}[{i}]", p.name, i, p.ctype, lo, hi) for i in range(p.n)]
        elif p.is_input:
            inputs.append(Port(p.name, p.name, None, p.ctype, lo, hi))
        if p.kind == "array_out":
            outputs += [Port(f"{p.name}[{i}]", p.name, i, p.ctype) for i in range(p.n)]
        elif writes:
            outputs.append(Port(p.name, p.name, None, p.ctype))
    return Signature(fn.name, ret, tuple(params), tuple(inputs), tuple(outputs))
