"""The builder's statement layer: locals, tables, helper functions, and the `block_*` methods, each of which
appends one kind of code (a polynomial, a clamp, a piecewise function, a switch, an accumulation loop, a table
interpolation, an iterative solver, ...) to the body and adds the locals it defines to the scope."""

from __future__ import annotations

import copy
import math
from contextlib import contextmanager

from nsc.training.corpus_gen.analysis import referenced_names, walk_assign_targets
from nsc.training.corpus_gen.build_expr import ExprBuilder, Helper, VarInfo, nice
from nsc.training.corpus_gen.ir import (AddrOf, Assign, Bin, Call, Cast, Cond, Decl, Deref, Elem, Enum, Expr, ExprStmt,
                                        Function, If, Loop, Num, PDecl, Return, Switch, Table, Unary, Var, hull,
                                        is_float_type, mag)
from nsc.training.corpus_gen.vocab import HELPER_NAMES, LOCAL_NAMES, RANGES, TABLE_NAMES


def copy_expr(e: Expr) -> Expr:
    return copy.deepcopy(e)


class BlockBuilder(ExprBuilder):
    """Adds statements to `self.body`, the function being built (set by ProgramBuilder.build, swapped for a
    helper's body inside `helper_scope`): locals, loops and whole code blocks. `block_guard` returns the type
    planned in `self.plan`."""

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

    def recount_uses(self):
        """Set `uses` from the statements actually kept (expressions built and then discarded counted too)."""
        refs = referenced_names(self.body)
        for v in self.scope:
            if v.role in ("input", "state", "array"):
                v.uses = refs[v.name]
            elif v.role == "local":  # its declaration/assignments are not uses
                v.uses = refs[v.name] - sum(1 for s in walk_assign_targets(self.body) if s == v.name)

    # ------------------------------------------------------------------ scopes
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

    def first_stmt_index(self) -> int:
        """Where C89-style declarations go: after the other leading declarations."""
        k = 0
        while k < len(self.body) and isinstance(self.body[k], Decl) and self.body[k].init is None \
                and self.body[k].ctype == "int":
            k += 1
        return k

    # ------------------------------------------------------------------ file-scope items
    def table(self, values, pool=TABLE_NAMES, cols=None) -> VarInfo:
        ctype = "float" if self.style == "float" else "double"
        name = self.fresh(pool, upper=True)
        self.items.append(Table(ctype, name, [nice(v, 4) for v in values], cols))
        info = VarInfo(name, ctype, min(values), max(values), "table", n=len(values) if not cols else None)
        self.scope.append(info)
        self.features["table"] += 1
        return info

    def helpers_named(self, kind):
        return [h.fn for h in self.helpers if h.kind == kind]

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

    # ------------------------------------------------------------------ blocks
    def block_expr(self):
        self.new_local(self.varying_expr(self.rng.randint(1, 3)))

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
