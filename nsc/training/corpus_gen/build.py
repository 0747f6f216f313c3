"""The whole program: inputs, a random sequence of blocks, outputs; `generate_program(seed)`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from nsc.training.corpus_gen.analysis import construct_counts, prune_unused, toplevel_names
from nsc.training.corpus_gen.build_blocks import BlockBuilder
from nsc.training.corpus_gen.build_expr import VarInfo, nice
from nsc.training.corpus_gen.emit import emit_unit
from nsc.training.corpus_gen.ir import (Assign, Cast, Const, Define, Deref, Elem, Function, Loop, Num, PDecl, Return,
                                        Unit, Var, is_float_type, mag)
from nsc.training.corpus_gen.vocab import (ARRAY_NAMES, CONST_NAMES, FUNC_NOUNS, FUNC_VERBS, INT_NAMES, INT_RANGES,
                                           NAMED_CONSTANTS, OUT_NAMES, RANGES, SCALAR_NAMES)


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


class ProgramBuilder(BlockBuilder):
    """Builds one program from a seeded RNG (`build`): inputs, file-scope constants and helpers, a random
    sequence of blocks (BlockBuilder, which appends statements to the body and adds the locals it defines to the
    scope), then outputs built from the least-used values in scope. Expressions come from ExprBuilder."""

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


def generate_program(seed: int) -> GeneratedProgram:
    """One synthetic kernel, deterministic in `seed`."""
    b = ProgramBuilder(seed)
    unit = prune_unused(b.build())
    return GeneratedProgram(unit.target.name, emit_unit(unit), seed, unit, construct_counts(unit))
