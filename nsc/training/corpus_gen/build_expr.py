"""The builder's state and its expression layer: typed, interval-tracked expressions over the names in scope
(leaves, guarded math calls, conditions, helper calls, output values). Nothing here appends statements; that is
build_blocks.py."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

from nsc.training.corpus_gen.ir import (CMP_OPS, FLOAT_CTYPES, MATH1, MATH2, Bin, Call, Cast, Cond, Deref, Elem, Expr,
                                        Function, Num, Var, hull, is_float_type, mag)
from nsc.training.corpus_gen.vocab import AVOID


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


def nice(v: float, digits: int = 3) -> float:
    """Round to a few significant digits, the way constants look in real code."""
    if v == 0 or not math.isfinite(v):
        return 0.0
    return float(f"{v:.{digits}g}")


class ExprBuilder:
    """The state of one program being built from a seeded RNG (the scope, file-scope items, helpers, feature
    counts) and the methods that build expressions over the scope; `expr` is the entry point."""

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

    def varying_expr(self, depth) -> Expr:
        """An expression that depends on some input (a few tries; constant folding is rare in real kernels)."""
        for _ in range(4):
            e = self.expr(depth)
            if e.deps:
                return e
        v = self.pick_var(lambda v: bool(v.deps))
        return self.bin("+", e, self.var(v)) if v is not None else e

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
