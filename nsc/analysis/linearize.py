"""Statistical linearisation: the best linear model of the target function over its input box, read from the text.

A static analysis (an abstract interpretation): the program is never run. Each input is x_i = mid_i + half_i u_i
with u_i uniform on [-1, 1] (the surrogate's normalised input), and every value the function computes is
abstracted as a linear form in the u's plus a residual,

    value ~ mean + sum_i lin_i u_i + sum_s e_s n_s,      n_s: noise symbols, uncorrelated with the u's,

the least-squares linear approximation of the value, propagated approximately. Each nonlinear step gives what
it leaves over a fresh noise symbol (as in affine arithmetic), so values computed from the same residual stay
correlated (d2 = d1 - s has d1's residual; y - y is 0); the output's residual variance is what its symbols add up to.
  * sums and scalings are exact; a product uses its operands' moments (exact mean and linear part for any
    two linear forms; the residual as if they were Gaussian, with the input terms' own, uniform, fourth moments:
    exact for products of linear forms in the inputs);
  * other nonlinear steps (math.h calls, division, pow, casts to int, comparisons, table lookups at a computed
    index) are linearised statistically: the scalar function is integrated over its operand's approximate
    distribution (the operand's largest input term as a uniform variable, the rest as a Gaussian; for two
    operands their two main input terms as uniforms) by quadrature, giving the result's mean, its covariance
    with the operand, and what is left over; a division by a product of factors that keep off zero divides by
    each factor (1 / (v sqrt(t)) = (1 / v) (1 / sqrt(t))), so each reciprocal is integrated over its own factor;
  * a branch on an uncertain condition runs both arms and merges their states weighted by the condition's
    probability (itself a linear form, so the merge also carries how the choice depends on the inputs); where
    the condition tests one value, the merge integrates over that value instead, so each arm counts only where
    it is taken (a clamp narrows a value's spread), and a noise symbol that is what a function of that value
    left over (fabs(x) in sign-symmetric code) is known at each point of the integration; an arm that returns
    finishes a path of its own, merged with the rest at the end;
  * a loop or ``break``/``continue`` decided by an uncertain condition follows the likelier way (an
    approximation: Newton-style iterations stop where most of the input box has converged).
Constant values stay exact Python numbers with C's integer semantics, so loops with constant bounds unroll
exactly and constant tables are read exactly.

Alongside the statistics, a value may carry its exact `Form`: m + c . u + sum_k a_k relu(p_k(u)) with affine
p_k, when it is built from the inputs by sums, scalings by constants, and the selects that saturating code
makes: fmin/fmax/fabs of affine values, and a branch or ?: on an affine comparison whose arms differ by a
multiple of the compared difference (so the result is continuous: v > 255 ? 255 : v is v - relu(v - 255)), or
whose regions and arms are all functions of one direction. Such an output is not approximated at all: the
compiler emits it exactly (nsc/compiler/exact.py). A form may also hold squares (x * x, pow(x, 2)) and Euclidean
lengths (sqrt of a sum of squares, hypot), which the compiler approximates to a stated error (forms.py).

The values and their arithmetic (`Lin`, sums, products, quadrature, merges) are in values.py, the exact forms'
algebra in forms.py; this module is the interpreter of C statements over them.

`linearize(exts, signature)` -> a `Linearization`, or an `Unsupported` reason for code outside the subset
(unions, goto, bit operations on uncertain values, writes at an uncertain index, more than MAX_STEPS steps).
Structs are their members' cells (declared.py).
The compiler reads the result as features (nsc/compiler/encoding.py); `bench/bench_linearize.py` measures how
close it comes to the least-squares linear fit of sampled data.
"""

from __future__ import annotations

import math
import operator
import os
from dataclasses import dataclass

import numpy as np
from pycparser import c_ast, c_parser

from nsc.analysis.declared import (FLOAT32, Layout, Types, c_name, copied, member_of, scalar_slot, slot_of,
                                   type_names)
from nsc.frontend.c_types import POINTER_SIZE, SCALAR_SIZES, canonical_scalar
from nsc.frontend.canonical import TARGET_NAME, walk
from nsc.frontend.literals import float_value
from nsc.frontend.program import INTEGER_LIMITS
from nsc.recursion import deep
from nsc.analysis.graph import FUNCTIONS, INTEGER_FUNCTIONS
from nsc.analysis.forms import Form, abs_of, norm_of, relu_of, select, square_of  # noqa: F401 - Form: interface
from nsc.analysis.values import (  # noqa: F401 - Unsupported: part of this module's interface
    Aggregate, Function, FunctionChoice, Lin, NOISE_SYMBOLS, Ptr, Unsupported, VAR_U, add, apply1, apply2, as_lin,
    both, c_div, c_mod, check_value, clipped_index, form_of, index_weights, input_model, integer_values, is_const,
    is_int, leftovers, mix, mul, negate, noise_symbols, probability, reciprocal, scale, settle, split_of, unary_fn,
    unproven_steps, with_entry_spread,
)


MAX_STEPS = 20_000  # work before the analysis gives up: expression evaluations, plus memory cells copied / 8
#                     (~5 us a step: at most ~0.1 s at compile time; corpus programs take at most ~9,000)
MAX_CALL_DEPTH = 32
MAX_SCATTER = 64  # elements a write at an uncertain index may name (each becomes a merge of new and old)
INFINITY_BUILTINS = ("__builtin_inf", "__builtin_inff", "__builtin_infl", "__builtin_huge_val",
                     "__builtin_huge_valf", "__builtin_huge_vall")  # what the stand-in math.h's macros call


@dataclass
class Linearization:
    """Per output j: y_j ~ mean[j] + sum_i coef[i, j] u_i + e_j with Var(e_j) = resid[j] (u_i ~ U[-1, 1])."""

    mean: np.ndarray  # [n_out] float64
    coef: np.ndarray  # [n_in, n_out] float64
    resid: np.ndarray  # [n_out] float64, >= 0
    forms: list | None = None  # [n_out]: output j's exact Form where the analysis proves one, else None
    input_var: np.ndarray | None = None  # [n_in] Var(u_i): 1/3 (None: all), more for an integer input (`input_model`)

    @property
    def var_lin(self) -> np.ndarray:
        """[n_out] the variance the linear part explains."""
        var = np.full(self.coef.shape[0], VAR_U) if self.input_var is None else self.input_var
        return var @ (self.coef ** 2)

    @property
    def exact(self) -> np.ndarray:
        """[n_out] bool: which outputs have an exact form."""
        return np.array([f is not None for f in (self.forms or [None] * len(self.mean))], dtype=bool)

    @property
    def std(self) -> np.ndarray:
        """Predicted standard deviation of each output over the input box."""
        return np.sqrt(self.var_lin + self.resid)

    def predict(self, u: np.ndarray) -> np.ndarray:
        """The linear model itself on normalised inputs u [n, n_in] -> [n, n_out]."""
        return self.mean + u @ self.coef


# ----------------------------------------------------------------------------------------------------------------
# math.h

MATH_1 = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt, "cbrt": np.cbrt, "fabs": np.abs, "floor": np.floor,
    "ceil": np.ceil, "round": lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5), "trunc": np.trunc,
    "rint": np.rint, "nearbyint": np.rint, "signbit": lambda x: np.signbit(x).astype(float),
    "erf": np.vectorize(math.erf, otypes=[float]), "erfc": np.vectorize(math.erfc, otypes=[float]),
    "tgamma": np.vectorize(lambda x: math.gamma(x) if x > 0 or x != int(x) else np.nan, otypes=[float]),
    "lgamma": np.vectorize(lambda x: math.lgamma(x) if x > 0 or x != int(x) else np.nan, otypes=[float]),
}
MATH_2 = {"pow": np.power, "atan2": np.arctan2, "fmod": np.fmod, "hypot": np.hypot, "copysign": np.copysign,
          "fdim": lambda a, b: np.maximum(a - b, 0.0), "remainder": lambda a, b: a - b * np.rint(a / b),
          "ldexp": lambda a, b: a * np.exp2(np.trunc(b))}
MIN_MAX = {"fmin": np.minimum, "fmax": np.maximum}


def library_name(name: str) -> str:
    """The math.h name a call means: gcc's builtins (`__builtin_exp`, what some headers' macros call) are the
    functions themselves, and nearbyint is rint."""
    if name.startswith("__builtin_") and name not in INFINITY_BUILTINS:
        name = name[len("__builtin_"):]
    return "rint" + name[len("nearbyint"):] if name.startswith("nearbyint") else name  # (the same, with no
    #                                                                                      inexact flag raised)


def variant_of(name: str, base: str) -> bool:
    """Is `name` the math.h function `base` or its float or long double variant (fmaf, fmal)?"""
    return name in (base, base + "f", base + "l")


def math_function(table: dict, name: str):
    """(base name, function) of a math.h call in `table`, its float/long double variants (``sinf``, ``sinl``)
    included; None if it is not there."""
    for base in (name, name[:-1] if name.endswith(("f", "l")) else None):
        if base in table:
            return base, table[base]
    return None


# ----------------------------------------------------------------------------------------------------------------
# the interpreter

def _wrap(x, tmin: int, tmax: int):
    """x converted to the integer type holding tmin..tmax: modulo 2^bits, as C does for unsigned types and gcc
    for signed ones; _Bool is x != 0."""
    if tmax == 1 and tmin == 0:
        return (x != 0) * 1
    span = tmax - tmin + 1
    return (x - tmin) % span + tmin


def _int_literal(text: str) -> int:
    t = text.rstrip("uUlL")
    if t.lower().startswith("0x"):
        return int(t, 16)
    if len(t) > 1 and t.startswith("0") and t.isdigit():
        return int(t, 8)
    return int(t)


def _parameters(fn: c_ast.FuncDef) -> list:
    """A function definition's parameter declarations (``(void)`` has none)."""
    params = fn.decl.type.args.params if fn.decl.type.args else []
    return [p for p in params if not isinstance(p, c_ast.Typename)]


class _Return(Exception):
    pass


class _State:
    """Memory of one path: storages (lists of values) by id, shared ids across copies so pointers stay valid."""

    def __init__(self, mem: dict, weight):
        self.mem, self.weight = mem, weight

    def copy(self, weight) -> "_State":
        return _State({k: list(v) for k, v in self.mem.items()}, weight)


def mean_of(v) -> float:
    return v.m if isinstance(v, Lin) else float(v)


class _Exits:
    """The paths that leave one loop early, on uncertain conditions.

    Values inside the loop are not conditioned on the loop still running (the analysis cannot condition), so the
    probability of an exit condition at iteration t is the share of the input box that has left by then, by
    that exit: cumulative, not a hazard. So each exit site (a loop condition or a branch that breaks) leaves
    with the increase of its probability since its last visit, the running path keeps its weight, and after
    the loop the exits are merged with the running path, which carries what is left.
    """

    def __init__(self, start):
        self.start = start  # the loop's weight
        self.exited = 0.0  # weight that has left, so far
        self.paths = []  # (weight, state)
        self.last = {}  # exit site -> its weight at its last visit

    def record(self, site, leaving: _State, n: int) -> None:
        mass = add(leaving.weight, self.last.get(site, 0.0), n, -1.0)
        if mean_of(mass) <= 1e-9:
            return
        self.last[site] = leaving.weight
        self.paths.append((mass, leaving))
        self.exited = add(self.exited, mass, n)

    def done(self) -> bool:
        """Has (nearly) every path left?"""
        return mean_of(self.exited) >= (1 - 1e-3) * mean_of(self.start)


class _Frame:
    """One function activation: its scopes, the paths that have returned, the exits of the loops it is in."""

    def __init__(self, scope: dict, is_int_return: bool, root: "_State"):
        self.scopes = [scope]
        self.finished = []  # (weight, state, return value, region): see `run_body`
        self.exits = []  # one _Exits per enclosing loop
        self.is_int_return = is_int_return
        self.root = root  # the state the body runs on: the path that has not returned


ALWAYS = "always"  # the region of a path that returned from the root path unconditionally


class Interpreter:
    def __init__(self, exts, n_in: int):
        self.n_in = n_in
        self.n = n_in + NOISE_SYMBOLS  # vector length: the inputs' coordinates, then the noise symbols'
        noise_symbols[:] = [n_in, n_in, self.n]
        leftovers.clear()
        input_model(self.n, [])
        self.steps = 0
        self.next_sid = 0
        self.element_bytes: dict[int, int] = {}  # storage id -> sizeof one of its cells (`size_of`)
        self.variable_length: dict = {}  # storage id of a variable-length array -> its length (a value)
        self.read_program(exts)

    def read_program(self, exts) -> None:
        """The program's functions, file-scope declarations, enums and types (struct layouts: declared.py)."""
        self.functions = {e.decl.name: e for e in exts if isinstance(e, c_ast.FuncDef)}
        self.global_decls = [e for e in exts if isinstance(e, c_ast.Decl) and e.name
                             and not isinstance(e.type, c_ast.FuncDecl)]
        self.enums = [node for e in exts for node in walk(e) if isinstance(node, c_ast.Enum)]
        self.globals: dict = {}
        self.types = Types(exts, lambda node: self.eval(node, _State({}, 1.0), None))
        self.depth = 0

    # -- memory ----------------------------------------------------------------------------------------------
    # A scope maps a name to ("scalar", sid, slot), ("struct", sid, layout), ("array", sid, slot, dims),
    # ("pointer", sid, slot: of what it points to) or ("constant", value); a slot is declared.py's

    def new_storage(self, state: _State, cells: list) -> int:
        sid = self.next_sid
        self.next_sid += 1
        state.mem[sid] = cells
        return sid

    def declare(self, decl: c_ast.Decl, state: _State, frame: _Frame | None, scope: dict):
        t = decl.type
        if isinstance(t, c_ast.FuncDecl):
            return
        if isinstance(t, c_ast.TypeDecl):
            if not isinstance(t.type, (c_ast.IdentifierType, c_ast.Enum, c_ast.Struct, c_ast.Union)):
                raise Unsupported(f"{c_name(t.type)} variable")
            slot = self.types.slot(t)
            if isinstance(slot, Layout):
                cells = slot.zeros()
                if isinstance(decl.init, c_ast.InitList):
                    self.initialise(decl.init, ((), slot), cells, 0, state, frame)
                elif decl.init is not None:
                    cells = list(self.convert(self.eval(decl.init, state, frame), slot).cells)
                scope[decl.name] = ("struct", self.new_storage(state, cells), slot)
            else:
                value = 0 if slot else 0.0
                if decl.init is not None:
                    init = decl.init.exprs[0] if isinstance(decl.init, c_ast.InitList) and decl.init.exprs \
                        else decl.init  # (int x = {3};)
                    value = self.convert(self.eval(init, state, frame), slot)
                scope[decl.name] = ("scalar", self.new_storage(state, [value]), slot)
            self.element_bytes[scope[decl.name][1]] = self.types.bytes_of(t)
        elif isinstance(t, c_ast.ArrayDecl):
            dims, length = [], None
            node = t
            while isinstance(node, c_ast.ArrayDecl):
                if node.dim is None:
                    if not isinstance(decl.init, c_ast.InitList) or dims:
                        raise Unsupported("an array of unknown size")
                    dims.append(len(decl.init.exprs))
                else:
                    d = self.eval(node.dim, state, frame)
                    if not isinstance(d, int) and not dims:  # a variable-length array: as long as it can be
                        length, d = d, self.largest_length(d)  # (elements past its length: undefined)
                    if not isinstance(d, int):
                        raise Unsupported("an array with an uncertain size")
                    dims.append(d)
                node = node.type
            # (an array of function pointers: its cells hold Function values)
            function_pointers = isinstance(node, c_ast.PtrDecl) and isinstance(node.type, c_ast.FuncDecl)
            slot = False if function_pointers else self.types.slot(node)
            size = int(np.prod(dims)) * (slot.size if isinstance(slot, Layout) else 1)
            if size > 1_000_000:
                raise Unsupported("a very large array")
            cells = slot.zeros() * int(np.prod(dims)) if isinstance(slot, Layout) else [0 if slot else 0.0] * size
            if decl.init is not None:
                self.initialise(decl.init, (tuple(dims), slot), cells, 0, state, frame)
            scope[decl.name] = ("array", self.new_storage(state, cells), slot, tuple(dims))
            self.element_bytes[scope[decl.name][1]] = self.types.bytes_of(node)
            if length is not None:
                self.variable_length[scope[decl.name][1]] = length
        elif isinstance(t, c_ast.PtrDecl):
            value = None
            if decl.init is not None:
                value = self.eval(decl.init, state, frame)
                if not isinstance(value, (Ptr, Function)):
                    raise Unsupported("a pointer initialised from a non-pointer")
            scope[decl.name] = ("pointer", self.new_storage(state, [value]), self.types.element_slot(t))
        else:
            raise Unsupported(f"a declaration of {c_name(t)}")

    def initialise(self, init, kind: tuple, cells: list, at: int, state, frame, items=None, pos: int = 0) -> int:
        """Initialise the object of `kind` ((dims, slot): an array of dims, () for one element, of scalars of that
        slot or structs of that Layout) at cells[at:] from `init`, as C does: braces align with sub-objects (an
        array's rows, a struct's members), and where they are left out the values fill the next sub-objects in
        order (brace elision: double m[2][3] = {{1}, {4}} sets m[1][0], where {1, 4} sets m[0][1]); what is not
        initialised keeps its 0. Unbraced, the values are items[pos:] of the enclosing list: returns the position
        after the last one used."""
        if items is None:
            items, pos = [init], 0
        dims, slot = kind
        node = items[pos]
        if not dims and not isinstance(slot, Layout):  # a scalar ({3} for 3 too)
            while isinstance(node, c_ast.InitList) and len(node.exprs) == 1:
                node = node.exprs[0]
            value = node if not isinstance(node, c_ast.Node) else self.eval(node, state, frame)
            cells[at] = self.convert(value, slot)
            return pos + 1
        if isinstance(node, c_ast.InitList):  # a braced list: this object's own
            subs, exprs = list(self.sub_objects(kind, at)), list(node.exprs)
            used = k = 0
            while used < len(exprs):
                if isinstance(exprs[used], c_ast.NamedInitializer):  # .m = v, [i] = v: from that sub-object on
                    named = exprs[used]
                    k = self.designated(kind, named.name[0], state, frame)
                    if len(named.name) > 1:  # .a.b = v: within it, a sub-object of its own
                        self.designate(subs[k], named.name[1:], named.expr, cells, state, frame)
                        used, k = used + 1, k + 1
                        continue
                    exprs[used] = named.expr
                if k >= len(subs):
                    raise Unsupported("an initialiser longer than its object")
                used = self.initialise(None, subs[k][0], cells, subs[k][1], state, frame, exprs, used)
                k += 1
            return pos + 1
        if not dims:  # a struct from an expression: a struct value, or the first of its members' values
            value = node if not isinstance(node, c_ast.Node) else self.eval(node, state, frame)
            if isinstance(value, Aggregate):
                cells[at:at + slot.size] = self.convert(value, slot).cells
                return pos + 1
            items = [*items[:pos], value, *items[pos + 1:]]  # (evaluated once)
        for sub_kind, sub_at in self.sub_objects(kind, at):  # brace elision
            if pos >= len(items):
                break
            pos = self.initialise(None, sub_kind, cells, sub_at, state, frame, items, pos)
        return pos

    def designated(self, kind: tuple, designator, state, frame) -> int:
        """Which sub-object of an object of `kind` a designator names: [i] an element, .m a member."""
        dims, slot = kind
        if dims and not isinstance(designator, c_ast.ID):
            k = self.eval(designator, state, frame)
            if isinstance(k, int) and 0 <= k < dims[0]:
                return k
        elif not dims and isinstance(designator, c_ast.ID) and designator.name in slot.members:
            return list(slot.members).index(designator.name)
        raise Unsupported("a designated initialiser that names nothing in its object")

    def designate(self, sub: tuple, designators: list, expr, cells: list, state, frame) -> None:
        """Initialise the sub-object the designators name within `sub` ((kind, first cell)) from expr."""
        kind, at = sub
        target = list(self.sub_objects(kind, at))[self.designated(kind, designators[0], state, frame)]
        if len(designators) > 1:
            self.designate(target, designators[1:], expr, cells, state, frame)
        else:
            self.initialise(expr, target[0], cells, target[1], state, frame)

    @staticmethod
    def sub_objects(kind: tuple, at: int):
        """(kind, first cell) of each sub-object of an aggregate object of `kind` (see `initialise`), in order."""
        dims, slot = kind
        if dims:
            step = int(np.prod(dims[1:], dtype=np.int64)) * (slot.size if isinstance(slot, Layout) else 1)
            for k in range(dims[0]):
                yield (dims[1:], slot), at + k * step
        else:
            for member in slot.members.values():
                yield (member.dims, member.slot), at + member.offset

    def lookup(self, name: str, frame: _Frame | None):
        if frame is not None:
            for scope in reversed(frame.scopes):
                if name in scope:
                    return scope[name]
        if name in self.globals:
            return self.globals[name]
        if name in self.functions or any(math_function(table, library_name(name)) for table in (MATH_1, MATH_2,
                                                                                                    MIN_MAX)):
            return ("constant", Function(name))  # a function designator: what a function pointer holds
        raise Unsupported(f"unknown name {name}")

    def convert(self, v, int_type):
        """C's conversion on assignment to an integer variable (int_type: its type's name, or True) or a floating
        one (False). A value that may leave the integer type's range wraps, as in C: by quadrature, and without
        an exact form (a+b in unsigned char was 'compiled exactly' as 300 where C gives 44)."""
        if isinstance(v, (Ptr, Function)) or v is None:
            return v
        if isinstance(v, Aggregate) or isinstance(int_type, Layout):
            return copied(v, int_type, self.convert)
        if int_type == "_Bool" and (is_const(v) or not v.is_int):  # a test against 0, not a truncation: (_Bool)0.3
            return int(v != 0) if is_const(v) else apply1(lambda x: (x != 0) * 1.0, v, self.n, is_int_result=True)
        if int_type:
            limits = INTEGER_LIMITS.get(int_type) if isinstance(int_type, str) else None
            if isinstance(v, Lin) and not v.is_int:
                v = apply1(np.trunc, v, self.n, is_int_result=True)  # (may settle to a constant)
            if isinstance(v, Lin):
                if limits is not None:
                    lo, hi = v.form.tight_bounds() if v.form is not None else (v.lo, v.hi)
                    if max(lo, v.lo) < limits[0] or min(hi, v.hi) > limits[1]:
                        return apply1(lambda x: _wrap(x, *limits), v, self.n, is_int_result=True)
                return v
            if isinstance(v, float) and not math.isfinite(v):
                raise Unsupported("a non-finite value converted to an integer")
            return _wrap(int(v), *limits) if limits is not None else int(v)
        if isinstance(v, Lin):  # (a float's rounding is below the statistics' resolution)
            if v.is_int:
                return Lin(v.m, v.c, v.r, v.lo, v.hi, False, False, v.form)
            return v
        return float(np.float32(v)) if int_type is FLOAT32 else float(v)  # (a float loop counter's 0.1f steps)

    # -- lvalues ---------------------------------------------------------------------------------------------

    def cell(self, node, state, frame) -> Ptr:
        """The place an lvalue designates (its slot: the type stored; a struct's is its Layout), possibly an
        element at a computed index (Ptr.at)."""
        if isinstance(node, c_ast.ID):
            entry = self.lookup(node.name, frame)
            if entry[0] == "array":
                raise Unsupported("assignment to a whole array")
            return Ptr(entry[1], 0, (), entry[2])
        if isinstance(node, (c_ast.ArrayRef, c_ast.UnaryOp, c_ast.StructRef)):
            p = self.address(node, state, frame)
            if p.dims and (len(p.dims) > 1 or isinstance(node, c_ast.StructRef)):
                raise Unsupported("assignment to a whole array")
            return p
        raise Unsupported(f"assignment to {c_name(node)}")

    def address(self, node, state, frame) -> Ptr:
        """The pointer an element or member reference designates: a[i], *p, *(p + k), s.m, p->m."""
        if isinstance(node, c_ast.ArrayRef):
            base = self.eval(node.name, state, frame)
            if not isinstance(base, Ptr):
                raise Unsupported("indexing a non-pointer")
            idx = self.eval(node.subscript, state, frame)
            if not isinstance(idx, int):
                return self.computed_position(base, idx, state).moved(0, base.dims[1:])
            return self.shifted(base, idx, base.dims[1:])
        if isinstance(node, c_ast.UnaryOp) and node.op == "*":
            p = self.eval(node.expr, state, frame)
            if not isinstance(p, Ptr):
                raise Unsupported("dereferencing a non-pointer")
            return p.moved(0, p.dims[1:])
        if isinstance(node, c_ast.StructRef):
            base = self.eval(node.name, state, frame) if node.type == "->" else self.struct_address(node.name, state,
                                                                                                    frame)
            return member_of(base, node.field.name)
        raise Unsupported(f"the address of {c_name(node)}")

    def shifted(self, p: Ptr, elements: int, dims: tuple | None = None) -> Ptr:
        """p + elements (of its stride), with `dims` still to index (default: the same). A pointer at a computed
        position counts whole elements in its index (&t[i] + 1 is &t[i + 1], read through the same table)."""
        if p.at is not None and p.stride() == p.at[1]:
            idx, step, count = p.at
            return Ptr(p.sid, p.offset, p.dims if dims is None else dims, p.slot,
                       (self.arith("+", idx, elements), step, count))
        return p.moved(elements * p.stride(), dims)

    def computed_position(self, base: Ptr, idx, state) -> Ptr:
        """base + idx elements at a computed idx (&a[i], a + i): a pointer read through tables (Ptr.at). Where base
        is itself at a computed position (p->c[i] of p = &polys[k]), the two indices make one, in cells."""
        if is_const(idx) or isinstance(idx, (Ptr, Aggregate)) or not (base.dims or state):
            raise Unsupported("a pointer at an uncertain index")
        step = base.stride()
        count = base.dims[0] if base.dims else (len(state.mem[base.sid]) - base.offset) // step
        if base.at is None:
            return Ptr(base.sid, base.offset, base.dims, base.slot, (idx, step, count))
        outer, outer_step, outer_count = base.at
        cells = self.arith("+", self.arith("*", outer, outer_step), self.arith("*", idx, step))
        return Ptr(base.sid, base.offset, base.dims, base.slot,
                   (cells, 1, (outer_count - 1) * outer_step + (count - 1) * step + 1))

    def struct_address(self, node, state, frame) -> Ptr:
        """Where the struct `node` designates lies (a variable, an element, a member); a struct value computed
        (a helper's result) is put in a storage of its own."""
        if isinstance(node, c_ast.ID):
            entry = self.lookup(node.name, frame)
            if entry[0] == "struct":
                return Ptr(entry[1], 0, (), entry[2])
        elif isinstance(node, (c_ast.ArrayRef, c_ast.StructRef)) or isinstance(node, c_ast.UnaryOp) and node.op == "*":
            return self.address(node, state, frame)
        value = self.eval(node, state, frame)
        if not isinstance(value, Aggregate):
            raise Unsupported("a member of a value that is not a struct")
        return Ptr(self.new_storage(state, list(value.cells)), 0, (), value.layout)

    def member(self, node, state, frame):
        """s.m or p->m: a member's value (an array member: a pointer to it); a[k].m at an uncertain k reads the
        table of the elements' members (`computed_position`)."""
        return self.value_at(self.address(node, state, frame), state)

    def store(self, node, value, state, frame):
        p = self.cell(node, state, frame)
        value = self.convert(value, p.slot)
        values = list(value.cells) if isinstance(value, Aggregate) else [value]
        if p.at is None:
            self.write(state, p.sid, p.offset, values)
            return value
        # a write at a computed index: each element the index may name takes the values where it names it
        idx, step, count = p.at
        if count > MAX_SCATTER:
            raise Unsupported(f"a write at an uncertain index into an array of more than {MAX_SCATTER} elements")
        for k in range(count):
            where = self.truth(self.compare("==", idx, k))
            if not is_const(where) or where:
                self.write(state, p.sid, p.offset + k * step, values, where)
        return value

    def write(self, state, sid: int, off: int, values: list, where=1) -> None:
        """Store values in cells off, off + 1, ... of storage sid, where the truth `where` holds (a write at a
        computed index: merged with the old values by its probability). The tracer stores where the statement
        runs."""
        cells = state.mem[sid]
        if not (0 <= off and off + len(values) <= len(cells)):
            raise Unsupported(f"a write out of bounds: element {off} of an array of {len(cells)}")
        if is_const(where):
            cells[off:off + len(values)] = values
            return
        for k, value in enumerate(values, start=off):
            if isinstance(value, (Ptr, Function)) or isinstance(cells[k], (Ptr, Function)) or cells[k] is None:
                raise Unsupported("a pointer assigned at an uncertain index")
            cells[k] = self.mixed([where, negate(where)], [value, cells[k]])

    def read_element(self, node, state, frame):
        """a[i]: exact at a constant index; at an uncertain one, the table linearised over the index."""
        if isinstance(node.name, c_ast.ArrayRef):  # a[i][j]: a two-index table may have an uncertain row
            table = self.eval(node.name.name, state, frame)
            if isinstance(table, Ptr) and len(table.dims) == 2:
                return self.read_table2(table, self.eval(node.name.subscript, state, frame),
                                        self.eval(node.subscript, state, frame), state)
            base = self.element(table, self.eval(node.name.subscript, state, frame), state)
        else:
            base = self.eval(node.name, state, frame)
        return self.element(base, self.eval(node.subscript, state, frame), state)

    def element(self, base, idx, state):
        """base[idx] for an evaluated base and index (see read_element); at an uncertain index, a table of the
        elements it may read (of rows: a pointer to the row, `computed_position`)."""
        if not isinstance(base, Ptr):
            raise Unsupported("indexing a non-pointer")
        if isinstance(idx, int):
            return self.value_at(self.shifted(base, idx, base.dims[1:]), state)
        return self.value_at(self.computed_position(base, idx, state).moved(0, base.dims[1:]), state)

    def lookup_table(self, entries: list, idx, slot):
        """entries[idx] at an uncertain index: the table's means as a function of the index, plus the entries' own
        spread where they have one."""
        size = len(entries)
        means = np.array([e.m if isinstance(e, Lin) else float(e) for e in entries])
        value = as_lin(unary_fn(lambda x: means[clipped_index(x, size)], idx, self.n,
                                is_int_result=bool(slot)), self.n)
        return with_entry_spread(value, entries, lambda: index_weights(idx, size))

    def read_table2(self, table: Ptr, i, j, state):
        """table[i][j] with either index uncertain: the table's means as a function of both indices, integrated
        like a two-argument function (`apply2`), plus the entries' own spread where they have one."""
        rows, cols = table.dims
        if isinstance(i, int):  # a known row: a one-index read of it
            return self.element(self.element(table, i, state), j, state)
        if not (isinstance(i, Lin) and isinstance(j, (int, Lin))):
            raise Unsupported("an uncertain index into a multi-dimensional array")
        entries = self.entries(table, rows * cols, state)
        means = np.array([e.m if isinstance(e, Lin) else float(e) for e in entries]).reshape(rows, cols)
        if isinstance(j, int):
            j = min(max(j, 0), cols - 1)
            value = as_lin(unary_fn(lambda x: means[clipped_index(x, rows), j], i, self.n,
                                  is_int_result=bool(table.slot)), self.n)
        else:
            value = apply2(lambda x, y: means[clipped_index(x, rows), clipped_index(y, cols)], i, j)
            if table.slot:
                value = Lin(value.m, value.c, value.r, value.lo, value.hi, True)

        def weights():  # how often each entry is read (the two indices taken as independent)
            p_j = index_weights(j, cols) if isinstance(j, Lin) else np.eye(cols)[j]
            return np.outer(index_weights(i, rows), p_j).ravel()

        return with_entry_spread(value, entries, weights)

    def entries(self, base: Ptr, size: int, state) -> list:
        """The `size` cells a table at an uncertain index may read; Unsupported if any is a pointer or unset."""
        return checked_entries(state.mem[base.sid][base.offset:base.offset + size])

    def value_at(self, p: Ptr, state):
        """What an element or member reference reads: a number, a struct (a copy), or a pointer to the sub-array
        still to index."""
        if p.dims:
            return p
        cells = state.mem[p.sid]
        if p.at is not None:  # an element at a computed position: each of its cells a table over the elements
            idx, step, count = p.at
            if not (0 <= p.offset and p.offset + (count - 1) * step < len(cells)) or count < 1:
                raise Unsupported(f"a read out of bounds of an array of {len(cells)}")
            columns = [checked_entries(cells[p.offset + k:p.offset + k + count * step:step])
                       for k in range(p.layout.size if p.layout is not None else 1)]
            if p.layout is None:
                return self.lookup_table(columns[0], idx, p.slot)
            return Aggregate(tuple(self.lookup_table(c, idx, slot) for c, slot in zip(columns, p.layout.cell_slots)),
                             p.layout)
        size = p.layout.size if p.layout is not None else 1
        if not (0 <= p.offset and p.offset + size <= len(cells)):  # (a shape pragma smaller than the code's
            # reads, a table overrun)
            raise Unsupported(f"a read out of bounds: element {p.offset} of an array of {len(cells)}")
        return Aggregate(tuple(cells[p.offset:p.offset + size]), p.layout) if p.layout is not None else \
            cells[p.offset]

    # -- expressions -----------------------------------------------------------------------------------------

    max_steps = MAX_STEPS  # (the trace's limits may allow more: trace.Limits)

    def tick(self, work: int = 1) -> None:
        self.steps += work
        if self.steps > self.max_steps:
            raise Unsupported(f"more than {self.max_steps} steps")

    def fork(self, state: _State, weight) -> _State:
        """A copy of a path's memory for one way of an uncertain choice (charged for the cells it copies)."""
        self.tick(sum(len(cells) for cells in state.mem.values()) // 8 + 1)
        return state.copy(weight)

    def eval(self, node, state: _State, frame: _Frame | None):
        self.tick()
        if isinstance(node, c_ast.Constant):
            if node.type in ("int", "unsigned int", "long int", "unsigned long int", "long long int",
                             "unsigned long long int"):
                return _int_literal(node.value)
            if node.type in ("double", "float", "long double"):  # (1.5f is a float: 0.1f is not 0.1)
                value = float_value(node.value)
                return float(np.float32(value)) if node.type == "float" else value
            if node.type == "char":
                return ord(node.value.strip("'")[-1])
            raise Unsupported(f"a {node.type} constant")
        if isinstance(node, c_ast.ID):
            entry = self.lookup(node.name, frame)
            if entry[0] == "array":
                return Ptr(entry[1], 0, entry[3], entry[2])
            if entry[0] == "constant":
                return entry[1]
            if entry[0] == "struct":
                return Aggregate(tuple(state.mem[entry[1]]), entry[2])
            value = state.mem[entry[1]][0]
            if value is None:
                raise Unsupported("an uninitialised pointer")
            return value
        if isinstance(node, c_ast.ArrayRef):
            return self.read_element(node, state, frame)
        if isinstance(node, c_ast.StructRef):
            return self.member(node, state, frame)
        if isinstance(node, c_ast.BinaryOp):
            return self.binary(node, state, frame)
        if isinstance(node, c_ast.UnaryOp):
            return self.unary(node, state, frame)
        if isinstance(node, c_ast.TernaryOp):
            cond = self.truth(self.eval(node.cond, state, frame))
            p = probability(cond)
            if p is None:
                return self.eval(node.iftrue if self.decided(cond) else node.iffalse, state, frame)
            a = self.eval(node.iftrue, state, frame)
            b = self.eval(node.iffalse, state, frame)
            if is_int(a) != is_int(b):  # the usual arithmetic conversions
                a, b = self.convert(a, False), self.convert(b, False)
            return self.mixed([cond, negate(cond)], [a, b])
        if isinstance(node, c_ast.Assignment):
            if node.op == "=":
                return self.store(node.lvalue, self.eval(node.rvalue, state, frame), state, frame)
            old = self.eval(node.lvalue, state, frame)
            new = self.typed_arith(node.op[:-1], old, self.eval(node.rvalue, state, frame), node.lvalue,
                                   node.rvalue, frame)
            return self.store(node.lvalue, new, state, frame)
        if isinstance(node, c_ast.Cast):
            if isinstance(node.to_type.type, c_ast.PtrDecl):
                raise Unsupported("a pointer cast")
            v = self.eval(node.expr, state, frame)
            if canonical_scalar(type_names(node.to_type.type)) == "void":
                return v
            return self.convert(v, scalar_slot(node.to_type.type))
        if isinstance(node, c_ast.CompoundLiteral):  # (vec3){x, y, z}: a struct value; (double[]){...}: an array
            return self.compound_literal(node, state, frame)
        if isinstance(node, c_ast.FuncCall):
            return self.call(node, state, frame)
        if isinstance(node, c_ast.ExprList):
            v = None
            for e in node.exprs:
                v = self.eval(e, state, frame)
            return v
        raise Unsupported(f"{c_name(node)} expression")

    def compound_literal(self, node: c_ast.CompoundLiteral, state, frame):
        """A struct's value, or a pointer to a new array's first element (`(double[]){0.5, 1.5}[k]`)."""
        t = node.type.type
        if isinstance(t, c_ast.ArrayDecl) and not isinstance(t.type, c_ast.ArrayDecl):
            count = len(node.init.exprs) if t.dim is None else self.eval(t.dim, state, frame)
            slot = self.types.slot(t.type)
            if not isinstance(count, int) or isinstance(slot, Layout) or not 0 < count <= 1_000_000:
                raise Unsupported("an array compound literal of structs or of an uncertain size")
            cells = [0 if slot else 0.0] * count
            self.initialise(node.init, ((count,), slot), cells, 0, state, frame)
            sid = self.new_storage(state, cells)
            self.element_bytes[sid] = self.types.bytes_of(t.type)
            return Ptr(sid, 0, (count,), slot)
        slot = self.types.slot(t)
        if not isinstance(slot, Layout):
            raise Unsupported("a compound literal of a type other than a struct or an array")
        cells = slot.zeros()
        self.initialise(node.init, ((), slot), cells, 0, state, frame)
        return Aggregate(tuple(cells), slot)

    def truth(self, v):
        """A C truth value: a number, or a 0/1 linear form (the probability that it holds)."""
        if isinstance(v, Ptr):
            return 1
        if is_const(v):
            return int(bool(v))
        if v.is_bool:
            return v
        if v.is_int:  # (a truth the statistics make certain is counted in `unproven_steps` by `settle`)
            return apply1(lambda x: (np.abs(x) >= 0.5).astype(float), v, self.n, is_bool=True)
        return apply1(lambda x: (x != 0).astype(float), v, self.n, is_bool=True)

    def decided(self, cond) -> bool:
        """The way a certain condition goes (`probability` None). A truth value still uncertain in form, with
        a probability within 1e-9 of 0 or 1, goes the likelier way: that is not a proof."""
        if is_const(cond):
            return bool(cond)
        unproven_steps[0] += 1
        return cond.m > 0.5

    def compare(self, op: str, a, b):
        if isinstance(a, Ptr) and isinstance(b, Ptr):
            return pointer_order(op, a, b)
        a, b = check_value(a), check_value(b)
        if is_const(a) and is_const(b):
            return int({"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b, "==": a == b, "!=": a != b}[op])
        if is_const(b) and math.isinf(b):  # an uncertain value is finite: v > -INFINITY holds everywhere
            return self.compare(op, 0.0, b)
        if is_const(a) and math.isinf(a):
            return self.compare(op, a, 0.0)
        d = add(a, b, self.n, -1.0)
        if is_const(d):
            return self.compare(op, d, 0)
        ints = is_int(a) and is_int(b)
        half = 0.5 if ints else 0.0  # integer values: x < y is x - y <= -1, decided half way
        tests = {"<": lambda x: x < -half, ">": lambda x: x > half, "<=": lambda x: x <= half,
                 ">=": lambda x: x >= -half,
                 "==": (lambda x: np.abs(x) < 0.5) if ints else (lambda x: x == 0),
                 "!=": (lambda x: np.abs(x) >= 0.5) if ints else (lambda x: x != 0)}
        test = tests[op]
        if d.form is not None and op in ("<", ">", "<=", ">="):
            outcome = decided_by_bounds(d.form, test)  # proven; statistics may leave a sliver uncertain in form
            if outcome is not None:
                return outcome
        unproven = unproven_steps[0]
        indicator = lambda x: test(x).astype(float)  # noqa: E731
        truth = apply1(indicator, d, self.n, is_bool=True)
        if isinstance(truth, Lin):  # tests of one value against constants are recognised as such (`mix`)
            truth.split = ((a, lambda x: indicator(x - b)) if is_const(b) else
                           (b, lambda x: indicator(a - x)) if is_const(a) else (d, indicator))
        if isinstance(truth, Lin) and d.form is not None and op in ("<", ">", "<=", ">="):
            truth.region = d.form.times(1.0 if op in (">", ">=") else -1.0)
        # the statistics say certain: proven if d's bounds keep it off 0 (an order they decide returned above)
        if is_const(truth) and d.form is not None and op in ("==", "!="):
            lo, hi = d.form.bounds()
            if (lo > 0.5 * ints or hi < -0.5 * ints) and bool(truth) == (op == "!="):
                unproven_steps[0] = unproven  # proven after all
        return truth

    def arith(self, op: str, a, b):
        n = self.n
        if isinstance(a, Ptr) and op in ("+", "-") and isinstance(b, int):
            return self.shifted(a, b if op == "+" else -b)
        if isinstance(a, Ptr) and op == "+" and not isinstance(b, Ptr):
            return self.computed_position(a, b, None)
        if isinstance(a, Ptr) and isinstance(b, Ptr) and op == "-":
            return pointer_difference(a, b)
        a, b = check_value(a), check_value(b)
        ints = is_int(a) and is_int(b)
        if op == "+":
            return add(a, b, n)
        if op == "-":
            return add(a, b, n, -1.0)
        if op == "*":
            return mul(a, b, n)
        if op == "/":
            if is_const(a) and is_const(b):
                if ints:
                    return c_div(a, b)
                if b == 0:
                    raise Unsupported("division by a constant zero")
                return a / b
            if is_const(b):
                if b == 0:
                    raise Unsupported("division by a constant zero")
                q = scale(a, 1.0 / b)
                return self.convert(q, True) if ints else q
            if is_const(a):
                q = reciprocal(b, n) if a == 1 else scale(reciprocal(b, n), a)
            elif b.factors is not None:
                q = mul(a, reciprocal(b, n), n)
            else:
                q = apply2(np.divide, a, b)
            return self.convert(q, True) if ints else q
        if op == "%":
            if not ints:
                raise Unsupported("% on floating values")
            if is_const(a) and is_const(b):
                return c_mod(a, b)
            if is_const(b) and b != 0:
                return unary_fn(lambda x: np.fmod(np.trunc(x), b), a, n, is_int_result=True)
            raise Unsupported("% by an uncertain value")
        if op in ("<<", ">>", "&", "|", "^"):
            if not (is_const(a) and is_const(b) and ints):
                raise Unsupported(f"the bit operation {op} on uncertain values")
            return {"<<": lambda: a << b, ">>": lambda: a >> b, "&": lambda: a & b, "|": lambda: a | b,
                    "^": lambda: a ^ b}[op]()
        raise Unsupported(f"the operator {op}")

    def binary(self, node, state, frame):
        op = node.op
        if op in ("&&", "||"):
            a = self.truth(self.eval(node.left, state, frame))
            if is_const(a) and (bool(a) == (op == "||")):
                return a  # short circuit
            b = self.truth(self.eval(node.right, state, frame))
            if op == "&&":
                return both(a, b, self.n)
            return negate(both(negate(a), negate(b), self.n))
        a = self.eval(node.left, state, frame)
        b = self.eval(node.right, state, frame)
        if op in ("<", ">", "<=", ">=", "==", "!="):
            return self.compare(op, a, b)
        return self.arith(op, a, b)

    def unary(self, node, state, frame):
        op = node.op
        if op == "&":
            if isinstance(node.expr, c_ast.ID):
                entry = self.lookup(node.expr.name, frame)
                if entry[0] == "constant" and isinstance(entry[1], Function):
                    return entry[1]
                if entry[0] == "array":
                    return Ptr(entry[1], 0, entry[3], entry[2])
                return Ptr(entry[1], 0, (), entry[2])
            p = self.address(node.expr, state, frame)
            return p
        if op == "*":
            return self.value_at(self.address(node, state, frame), state)
        if op == "sizeof":  # (its operand is never evaluated)
            return self.size_of(node.expr, state, frame)
        if op in ("++", "--", "p++", "p--"):
            old = self.eval(node.expr, state, frame)
            new = self.arith("+" if "+" in op else "-", old, 1)
            self.store(node.expr, new, state, frame)
            return old if op.startswith("p") else new
        v = self.eval(node.expr, state, frame)
        if op == "-":
            return scale(check_value(v), -1) if not is_const(v) else -v
        if op == "+":
            return v
        if op == "!":
            return negate(self.truth(v))
        if op == "~" and isinstance(v, int):
            return ~v
        raise Unsupported(f"the unary operator {op}")

    def typed_arith(self, op, a, b, left, right, frame, node=None):
        """a op b of the C expressions left and right (node: `left op right` itself, None in `left op= right`),
        in the types C gives them: here as arith does (the statistics do not tell C's types apart); the tracer
        (trace.py) applies the usual arithmetic conversions."""
        return self.arith(op, a, b)

    def size_of(self, expr, state, frame):
        """C's sizeof: of a type name, a variable, an array or a row of one, an element through a pointer (a
        pointer itself, an array parameter included, is POINTER_SIZE, as in C)."""
        if isinstance(expr, c_ast.Typename):
            return self.types.bytes_of(expr.type)
        depth, base = 0, expr
        while isinstance(base, c_ast.ArrayRef):
            base, depth = base.name, depth + 1
        if isinstance(base, c_ast.UnaryOp) and base.op == "*":
            base, depth = base.expr, depth + 1
        entry = self.lookup(base.name, frame) if isinstance(base, c_ast.ID) else None
        if entry is not None and entry[0] == "array" and depth == 0 and entry[1] in self.variable_length:
            row = int(np.prod(entry[3][1:], dtype=np.int64)) * self.element_bytes[entry[1]]
            return self.arith("*", self.variable_length[entry[1]], row)  # (its length times a row's bytes)
        if entry is not None and entry[0] == "array" and depth <= len(entry[3]):
            return int(np.prod(entry[3][depth:], dtype=np.int64)) * self.element_bytes[entry[1]]
        if entry is not None and entry[0] in ("scalar", "struct") and depth == 0:
            return self.element_bytes[entry[1]]
        if entry is not None and entry[0] == "pointer":
            target = state.mem[entry[1]][0]
            if depth == 0:
                return POINTER_SIZE
            if depth == 1 and isinstance(target, Ptr) and len(target.dims) <= 1 and target.sid in self.element_bytes:
                return self.element_bytes[target.sid]
        raise Unsupported("sizeof of an expression other than a variable, an array's element or a type")

    def callee(self, node: c_ast.FuncCall, state, frame) -> str:
        """The name of the function a call calls: its own, or the one a function pointer holds (`f(x)`, `(*f)(x)`
        of a parameter `double (*f)(double)` given a helper or a math.h function; `fns[k](x)`), or the tracer's
        FunctionChoice where a condition chose it."""
        target = node.name
        while isinstance(target, c_ast.UnaryOp) and target.op == "*":
            target = target.expr
        if isinstance(target, c_ast.ID):
            try:
                entry = self.lookup(target.name, frame)
            except Unsupported:  # (a library function the tables do not know: `call` says which)
                return target.name
            value = entry[1] if entry[0] == "constant" else state.mem[entry[1]][0] if entry[0] == "pointer" \
                else None
        else:  # a computed function pointer: `fns[k](x)`
            value = self.eval(target, state, frame)
        if not isinstance(value, Function):
            raise Unsupported("a call through a pointer that holds no function")
        return value if isinstance(value, FunctionChoice) else value.name  # (a choice: the tracer's call)

    def call(self, node, state, frame):
        name = self.callee(node, state, frame)
        args = [self.eval(a, state, frame) for a in (node.args.exprs if node.args else [])]
        n = self.n
        if name in self.functions:
            return self.call_helper(self.functions[name], args, state)
        name = library_name(name)
        through_pointer = self.through_pointer(name, args, state)
        if through_pointer is not None:
            return through_pointer
        if variant_of(name, "fma") and len(args) == 3:  # a * b + c
            return self.arith("+", self.arith("*", args[0], args[1]), args[2])
        f1, f2, mm = math_function(MATH_1, name), math_function(MATH_2, name), math_function(MIN_MAX, name)
        if name in ("abs", "labs", "llabs") and len(args) == 1:  # of an integer: a double argument is truncated
            return unary_fn(lambda v: np.abs(np.trunc(v)), check_value(args[0]), n, is_int_result=True)
        if f1 is not None and len(args) == 1:
            value = unary_fn(f1[1], check_value(args[0]), n)
            if isinstance(value, Lin) and args[0].form is not None:
                if f1[0] == "fabs":  # relu(x) + relu(-x)
                    value.form = abs_of(args[0].form)
                elif f1[0] == "sqrt":  # of a sum of squares: a Euclidean length
                    value.form = norm_of([args[0].form])
            return value
        if mm is not None and len(args) == 2:  # fmin(a, b) = b + min(a - b, 0): one uncertain difference
            a, b = float(args[0]) if is_const(args[0]) else args[0], float(args[1]) if is_const(args[1]) else args[1]
            for inf, other in ((a, b), (b, a)):  # fmax(-INFINITY, v) is v, fmax(INFINITY, v) INFINITY
                if is_const(inf) and math.isinf(inf) and not is_const(other):
                    return other if (inf < 0) == (mm[0] == "fmax") else inf
            d = add(a, b, n, -1.0)
            part = unary_fn(lambda x: mm[1](x, 0.0), d, n)
            if isinstance(part, Lin) and isinstance(d, Lin) and d.form is not None:  # max(d, 0) = relu(d)
                relu = relu_of(d.form if mm[0] == "fmax" else d.form.times(-1.0))
                part.form = relu.times(1.0 if mm[0] == "fmax" else -1.0) if relu is not None else None
            return add(b, part, n)
        if f2 is not None and len(args) == 2:
            value = self.binary_fn(f2[1], name, check_value(args[0]), check_value(args[1]))
            if f2[0] == "hypot" and isinstance(value, Lin):
                forms = [form_of(v, n) for v in args]
                squares = [square_of(f) if f is not None else None for f in forms]
                value.form = norm_of(squares) if None not in squares else None  # sqrt(a^2 + b^2)
            elif f2[0] == "pow" and isinstance(value, Lin) and args[1] == 2 and args[0].form is not None:
                value.form = square_of(args[0].form)  # pow(dx, 2): a square, as dx * dx
            return value
        if name in INFINITY_BUILTINS and not args:  # math.h's INFINITY and HUGE_VAL: the start of a running max
            return math.inf
        raise Unsupported(f"the function {name}")

    def largest_length(self, length):
        """The most elements a variable-length array of `length` (an uncertain value) may have, or None where
        that is not known (the statistical interpreter keeps no bounds; the tracer does)."""
        return None

    def through_pointer(self, name: str, args: list, state):
        """modf(x, &whole) and frexp(x, &exponent): the part returned, the other stored through the pointer
        (modf: whole = trunc(x), x - whole returned; frexp: graph.py's "exponent" and "mantissa"); None for
        another call."""
        split = "modf" if variant_of(name, "modf") else "frexp" if variant_of(name, "frexp") else None
        if split is None or len(args) != 2 or not isinstance(args[1], Ptr):
            return None
        p = args[1]
        if p.at is not None or len(p.dims) > 1 or p.layout is not None:  # (dims (N,): *p, the first of N)
            raise Unsupported(f"{split} storing through a pointer at an uncertain place")
        x = check_value(args[0])
        stored = self.math1("trunc" if split == "modf" else "exponent", x)
        self.write(state, p.sid, p.offset, [self.convert(stored, p.slot)])
        return self.arith("-", x, stored) if split == "modf" else self.math1("mantissa", x)

    def math1(self, name: str, x):
        """A one-argument math.h function of a value, or one of frexp's parts (graph.py's FUNCTIONS)."""
        if name in MATH_1:
            return unary_fn(MATH_1[name], x, self.n)
        return unary_fn(lambda v: FUNCTIONS[name](v, None), x, self.n, is_int_result=name in INTEGER_FUNCTIONS)

    def binary_fn(self, f, name, a, b):
        n = self.n
        if is_const(a) and is_const(b):
            with np.errstate(all="ignore"):
                y = float(f(np.float64(a), np.float64(b)))
            if not math.isfinite(y):
                raise Unsupported(f"{name} is undefined at a constant argument")
            return y
        if is_const(b):
            return unary_fn(lambda x: f(x, b), a, n)
        if is_const(a):
            return unary_fn(lambda x: f(a, x), b, n)
        return apply2(f, a, b)

    # -- functions and statements ----------------------------------------------------------------------------

    def call_helper(self, fn: c_ast.FuncDef, args: list, caller: _State):
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise Unsupported("recursion")
        try:
            state = caller  # the helper works on the caller's memory (pointers into it stay valid)
            frame = _Frame(self.parameters(fn, args, state), self.result_slot(fn), state)
            return self.run_body(fn.body, state, frame)
        finally:
            self.depth -= 1

    def parameters(self, fn: c_ast.FuncDef, args: list, state) -> dict:
        """A helper's scope on entry: its parameters, given the arguments' values (converted to the parameters'
        types: a struct is copied)."""
        params = _parameters(fn)
        if len(params) != len(args):
            raise Unsupported("a call with the wrong number of arguments")
        scope = {}
        for p, v in zip(params, args):
            if isinstance(p.type, c_ast.PtrDecl) and isinstance(p.type.type, c_ast.FuncDecl):
                if not isinstance(v, Function):
                    raise Unsupported("a function pointer parameter given no function")
                scope[p.name] = ("pointer", self.new_storage(state, [v]), False)
                continue
            if isinstance(p.type, (c_ast.PtrDecl, c_ast.ArrayDecl)):
                if not isinstance(v, Ptr):
                    raise Unsupported("a pointer parameter given a non-pointer")
                if isinstance(p.type, c_ast.ArrayDecl) and isinstance(p.type.type, c_ast.ArrayDecl):
                    raise Unsupported("a multi-dimensional array parameter")
                scope[p.name] = ("pointer", self.new_storage(state, [v]), self.types.element_slot(p.type))
                continue
            slot = self.types.slot(p.type)
            v = self.convert(v, slot)
            if isinstance(slot, Layout):
                scope[p.name] = ("struct", self.new_storage(state, list(v.cells)), slot)
            else:
                scope[p.name] = ("scalar", self.new_storage(state, [v]), slot)
            self.element_bytes[scope[p.name][1]] = self.types.bytes_of(p.type)
        return scope

    def result_slot(self, fn: c_ast.FuncDef):
        """The type slot of a helper's result (a struct's: its Layout); False for a pointer or void."""
        ret_type = fn.decl.type.type
        return False if isinstance(ret_type, c_ast.PtrDecl) else self.types.slot(ret_type)

    def mixed(self, weights: list, values: list):
        """The mixture of the values a choice's ways give (`mix`; a struct's, cell by cell)."""
        if isinstance(values[0], Aggregate) and all(isinstance(v, Aggregate) for v in values):
            return Aggregate(tuple(mix(weights, list(cells), self.n) for cells in zip(*(v.cells for v in values))),
                             values[0].layout)
        return mix(weights, values, self.n)

    def run_body(self, body, state: _State, frame: _Frame):
        """Run a function body on `state`; afterwards `state` holds the merge of every path. Returns the value."""
        start_weight = state.weight
        live = True
        try:
            self.block(body, state, frame)
        except _Return:
            live = False
        paths = list(frame.finished)  # a return statement records its own path
        if live:
            paths.append((state.weight, state, None, ALWAYS))
        mems = [s.mem for _, s, _, _ in paths]  # (merging replaces state.mem)
        self.merge_states([(w, s) for w, s, _, _ in paths], state)
        state.weight = start_weight
        # Exact forms across returns: each path that returned early from the root path left it on an affine
        # region of its own, in order, so the function is region_1 ? path_1 : (region_2 ? path_2 : ... last)
        regions = [r for _, _, _, r in paths]
        foldable = len(paths) > 1 and regions[-1] is ALWAYS and all(isinstance(r, Form) for r in regions[:-1])
        if foldable:
            for sid, cells in state.mem.items():
                if all(sid in mem for mem in mems):
                    for k, value in enumerate(cells):
                        if isinstance(value, Lin):
                            value.form = self.fold(regions, [mem[sid][k] for mem in mems])
        if len(paths) == 1:
            return paths[0][2]
        rets = [v for _, _, v, _ in paths]
        if any(v is None for v in rets):
            return None
        value = self.mixed([w for w, _, _, _ in paths], rets)
        if isinstance(value, Lin) and not all(v is value for v in rets):
            value.form = self.fold(regions, rets) if foldable else None
        return value

    def fold(self, regions: list, values: list) -> Form | None:
        """region_1 ? values_1 : (region_2 ? values_2 : ... values_last), exactly, or None."""
        form = form_of(values[-1], self.n)
        for region, v in zip(reversed(regions[:-1]), reversed(values[:-1])):
            arm = form_of(v, self.n)
            if form is None or arm is None:
                return None
            form = select(region, arm, form) if arm is not form else form
        return form

    def merge_states(self, paths: list, into: _State, within=None) -> None:
        """into.mem := the mixture of the paths' memories [(weight, state)]; within: the split of the path they
        branched from (`mix`). A storage only some paths have (a local of one arm, out of scope after the merge)
        keeps the last path's cells."""
        if len(paths) == 1:
            into.mem = paths[0][1].mem
            return
        weights = [w for w, _ in paths]
        self.tick(len(paths) * sum(len(cells) for cells in into.mem.values()) // 8)
        merged = {}
        for sid, cells in paths[-1][1].mem.items():
            stores = [s.mem.get(sid) for _, s in paths]
            if any(st is None for st in stores):
                merged[sid] = cells
                continue
            merged[sid] = [mix(weights, [st[k] for st in stores], self.n, within) for k in range(len(cells))]
        into.mem = merged

    def block(self, node, state: _State, frame: _Frame):
        """Run a statement; returns None, 'break' or 'continue'; raises _Return when every path has returned."""
        if isinstance(node, c_ast.Compound):
            frame.scopes.append({})
            try:
                items = node.block_items or []
                for item in items:
                    signal = self.block(item, state, frame)
                    if signal:
                        return signal
            finally:
                frame.scopes.pop()
            return None
        return self.statement(node, state, frame)

    def statement(self, node, state, frame):
        """Run one statement (`_statement`); a reason the analysis stops gets the innermost statement's place."""
        try:
            return self._statement(node, state, frame)
        except OverflowError:  # Python's float arithmetic on constants (math.exp, **)
            raise located(Unsupported("an overflow"), node) from None
        except Unsupported as e:
            raise located(e, node)

    def _statement(self, node, state, frame):
        if isinstance(node, c_ast.Decl):
            self.declare(node, state, frame, frame.scopes[-1])
            return None
        if isinstance(node, c_ast.DeclList):
            for d in node.decls:
                self.declare(d, state, frame, frame.scopes[-1])
            return None
        if isinstance(node, c_ast.EmptyStatement):
            return None
        if isinstance(node, c_ast.Return):
            value = None
            if node.expr is not None:
                value = self.convert(self.eval(node.expr, state, frame), frame.is_int_return)
            frame.finished.append((state.weight, state, value, ALWAYS if state is frame.root else None))
            raise _Return()  # the path is recorded above
        if isinstance(node, c_ast.If):
            return self.branch(node.cond, node.iftrue, node.iffalse, state, frame)
        if isinstance(node, (c_ast.For, c_ast.While, c_ast.DoWhile)):
            return self.loop(node, state, frame)
        if isinstance(node, c_ast.Break):
            return "break"
        if isinstance(node, c_ast.Continue):
            return "continue"
        if isinstance(node, c_ast.Switch):
            return self.switch(node, state, frame)
        if isinstance(node, c_ast.Compound):
            return self.block(node, state, frame)
        if isinstance(node, (c_ast.Goto, c_ast.Label)):
            raise Unsupported("goto")
        self.eval(node, state, frame)  # an expression statement
        return None

    def run_arm(self, arm, state: _State, frame: _Frame):
        """Run one arm of a branch on `state`: (signal, returned)."""
        if arm is None:
            return None, False
        try:
            return self.block(arm, state, frame), False
        except _Return:
            return None, True

    def branch(self, cond_node, then, other, state: _State, frame: _Frame):
        cond = self.truth(self.eval(cond_node, state, frame))
        p = probability(cond)
        if p is None:
            arm = then if self.decided(cond) else other
            return self.block(arm, state, frame) if arm is not None else None
        n = self.n
        not_cond = negate(cond)
        s_then = self.fork(state, mul(state.weight, cond, n))
        s_else = self.fork(state, mul(state.weight, not_cond, n))
        before = len(frame.finished)
        sig_t, ret_t = self.run_arm(then, s_then, frame)
        middle = len(frame.finished)
        sig_e, ret_e = self.run_arm(other, s_else, frame)
        if state is frame.root:  # a whole arm that returned at once left the root path on cond's region
            arms = [(ret_t, s_then, cond.region, before, middle), (ret_e, s_else, not_cond.region, middle,
                                                                    len(frame.finished))]
            for returned, arm_state, region, start, end in arms:
                if returned and end == start + 1 and frame.finished[start][1] is arm_state:
                    w, st, v, _ = frame.finished[start]
                    frame.finished[start] = (w, st, v, ALWAYS if ret_t and ret_e and arm_state is s_else
                                             else region)
        if ret_t and ret_e:
            raise _Return()
        if ret_t or ret_e:
            survivor = s_else if ret_t else s_then
            state.mem, state.weight = survivor.mem, survivor.weight
            return sig_e if ret_t else sig_t
        exits = frame.exits[-1] if frame.exits else None
        if {sig_t, sig_e} == {"break", None} and exits is not None:  # a path leaves the loop here
            s_break, s_stay = (s_then, s_else) if sig_t == "break" else (s_else, s_then)
            exits.record(id(cond_node), s_break, n)
            state.mem = s_stay.mem  # the loop goes on (`_Exits` explains the weights)
            return None
        if sig_t != sig_e:  # continue (or a switch's break) on an uncertain condition: the likelier way
            unproven_steps[0] += 1
            keep, signal = (s_then, sig_t) if p >= 0.5 else (s_else, sig_e)
            state.mem = keep.mem
            return signal
        self.merge_states([(cond, s_then), (not_cond, s_else)], state, split_of(state.weight))
        return sig_t

    def holds(self, cond_node, state, frame, exits: "_Exits") -> bool:
        """Does the loop go on? An uncertain condition lets the paths where it fails leave (`_Exits`)."""
        if cond_node is None:
            return True
        cond = self.truth(self.eval(cond_node, state, frame))
        if probability(cond) is None:
            return self.decided(cond)
        leaving = self.fork(state, mul(state.weight, negate(cond), self.n))
        exits.record(id(cond_node), leaving, self.n)
        return not exits.done()

    def loop(self, node, state, frame):
        frame.scopes.append({})
        exits = _Exits(state.weight)
        frame.exits.append(exits)
        try:
            if isinstance(node, c_ast.For) and node.init is not None:
                if isinstance(node.init, c_ast.DeclList):
                    for d in node.init.decls:
                        self.declare(d, state, frame, frame.scopes[-1])
                else:
                    self.eval(node.init, state, frame)
            first = isinstance(node, c_ast.DoWhile)
            while first or self.holds(node.cond, state, frame, exits):
                first = False
                signal = self.block(node.stmt, state, frame)
                if signal == "break" or exits.done():
                    break
                if isinstance(node, c_ast.For) and node.next is not None:
                    self.eval(node.next, state, frame)
                if isinstance(node, c_ast.DoWhile) and not self.holds(node.cond, state, frame, exits):
                    break
        finally:
            frame.scopes.pop()
            frame.exits.pop()
        if exits.paths:
            remaining = add(exits.start, exits.exited, self.n, -1.0)
            if mean_of(remaining) <= 0 or exits.done():
                unproven_steps[0] += 1  # the last sliver of the input box that runs on is not followed
            paths = exits.paths + ([(remaining, state)] if mean_of(remaining) > 0 else [])
            self.merge_states(paths, state)
        return None

    def switch(self, node, state, frame):
        value = self.eval(node.cond, state, frame)
        items = node.stmt.block_items if isinstance(node.stmt, c_ast.Compound) else [node.stmt]
        items = items or []
        labels = []  # (case value or None for default, index)
        for k, item in enumerate(items):
            if isinstance(item, c_ast.Case):
                labels.append((self.eval(item.expr, state, frame), k))
            elif isinstance(item, c_ast.Default):
                labels.append((None, k))
        if is_const(value):
            start = next((k for v, k in labels if v is not None and v == value), None)
            if start is None:
                start = next((k for v, k in labels if v is None), None)
            return None if start is None else self.run_cases(items, start, state, frame)
        # an uncertain selector: every case, weighted by its probability
        n = self.n
        weights, states, rest = [], [], 1.0
        for v, k in labels:
            if v is None:
                continue
            w = self.compare("==", value, v)
            rest = add(rest, w, n, -1.0)
            weights.append(w)
            states.append(k)
        splits = [w.split if isinstance(w, Lin) else None for w in weights]
        if isinstance(rest, Lin) and splits and None not in splits and all(t is splits[0][0] for t, _ in splits):
            tests = [test for _, test in splits]  # the default is a test of the same value: what no case takes
            rest.split = (splits[0][0], lambda x: 1.0 - sum(test(x) for test in tests))
        default = next((k for v, k in labels if v is None), None)
        arms = list(zip(weights, states)) + [(rest, default)]
        live_w, live_s = [], []
        for w, start in arms:
            if is_const(w) and w <= 0:
                continue
            s = self.fork(state, mul(state.weight, w, n))
            if start is not None:
                try:
                    self.run_cases(items, start, s, frame)
                except _Return:
                    continue
            live_w.append(w)
            live_s.append(s)
        if not live_s:
            raise _Return()
        self.merge_states(list(zip(live_w, live_s)), state, split_of(state.weight))
        return None

    def run_cases(self, items, start, state, frame):
        for item in items[start:]:
            stmts = item.stmts if isinstance(item, (c_ast.Case, c_ast.Default)) else [item]
            for s in stmts or []:
                signal = self.block(s, state, frame)
                if signal == "break":
                    return None
                if signal:
                    return signal
        return None

    # -- the target ------------------------------------------------------------------------------------------

    def run_target(self, target: c_ast.FuncDef, signature) -> Linearization:
        n = self.n
        state = _State({}, 1.0)
        for d in self.global_decls:
            self.declare(d, state, None, self.globals)
        for node in self.enums:
            value = -1
            for e in node.values.enumerators if node.values else []:
                value = self.eval(e.value, state, None) if e.value is not None else value + 1
                self.globals[e.name] = ("constant", value)
        lo, hi = signature.ranges()
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        input_var = input_model(n, [integer_values(a, b) if port.is_integer else None
                                    for port, a, b in zip(signature.inputs, lo, hi)])
        port_value = {}
        for i, port in enumerate(signature.inputs):
            c = np.zeros(n)
            c[i] = half[i]
            port_value[(port.param, port.index)] = settle(Lin(mid[i], c, 0.0, lo[i], hi[i], port.is_integer,
                                                               form=Form(mid[i], c)))
        params = _parameters(target)
        if len(params) != len(signature.params):
            raise Unsupported("the signature does not match the function")
        scope, storage_of = {}, {}
        for p_ast, p in zip(params, signature.params):
            int_type = slot_of(p.ctype)
            zero = 0 if int_type else 0.0
            if p.shape is None and not p.is_pointer:
                scope[p_ast.name] = ("scalar", self.new_storage(state, [port_value.get((p.name, None), zero)]),
                                     int_type)
                continue
            size = p.shape or 1
            cells = [port_value.get((p.name, k), port_value.get((p.name, None), zero) if k == 0 else zero)
                     for k in range(size)]
            sid = self.new_storage(state, cells)
            storage_of[p.name] = sid
            self.element_bytes[sid] = SCALAR_SIZES[p.ctype]
            scope[p_ast.name] = ("pointer", self.new_storage(state, [Ptr(sid, 0, (size,), int_type)]), int_type)
        frame = _Frame(scope, slot_of(signature.return_ctype), state)
        ret = self.run_body(target.body, state, frame)
        n_out = signature.n_out
        n_in = self.n_in
        mean, coef, resid = np.zeros(n_out), np.zeros((n_in, n_out)), np.zeros(n_out)
        forms = [None] * n_out
        for j, port in enumerate(signature.outputs):
            if port.param == "return":
                v = ret
            else:
                v = state.mem[storage_of[port.param]][port.index or 0]
            if v is None or isinstance(v, Ptr):
                raise Unsupported(f"output {port.name} has no numeric value")
            v = as_lin(v, n)
            if not (math.isfinite(v.m) and np.isfinite(v.c).all() and math.isfinite(v.r)):
                raise Unsupported(f"output {port.name} overflows")
            noise = v.c[n_in:]
            mean[j], coef[:, j], resid[j] = v.m, v.c[:n_in], v.r + float(noise @ noise) * VAR_U  # symbols: uniform
            form = None if unproven_steps[0] else form_of(v, n)
            forms[j] = None if form is None else form.restricted(n_in)
        return Linearization(mean, coef, resid, forms, input_var)


_ORDER = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge, "==": operator.eq,
          "!=": operator.ne}


def pointer_order(op: str, a: Ptr, b: Ptr) -> int:
    """A comparison of two pointers into one array: by their places (a pointer walk, `while (p < end)`)."""
    if a.sid != b.sid or a.at is not None or b.at is not None:
        raise Unsupported("a comparison of pointers into different arrays or at uncertain places")
    return int(_ORDER[op](a.offset, b.offset))


def pointer_difference(a: Ptr, b: Ptr) -> int:
    """a - b of two pointers into one array: the elements between them."""
    if a.sid != b.sid or a.at is not None or b.at is not None:
        raise Unsupported("a difference of pointers into different arrays or at uncertain places")
    return (a.offset - b.offset) // a.stride()


def checked_entries(entries: list) -> list:
    """The cells a table at an uncertain index may read; Unsupported if any is a pointer or unset."""
    if not entries or any(isinstance(e, Ptr) or e is None for e in entries):
        raise Unsupported("an uncertain index into pointers")
    return entries


def decided_by_bounds(form: Form, test) -> int | None:
    """The comparison `test` of a value with this form where its sound bounds decide it (1 or 0), else None."""
    lo, hi = form.bounds()
    at_ends = test(np.array([lo, hi]))
    return int(at_ends[0]) if at_ends[0] == at_ends[1] else None


def place(node, column: bool = False) -> str | None:
    """`file:line` (`file:line:col` with column) of a C node in the user's file; None where it has no place or the
    code has no file (the corpus's canonical text)."""
    coord = getattr(node, "coord", None)
    if coord is None or not coord.file or coord.file.startswith("<"):
        return None
    return f"{os.path.basename(coord.file)}:{coord.line}" + (f":{coord.column}" if column else "")


def located(reason: Unsupported, node) -> Unsupported:
    """reason, naming where in the user's file it arose (`file:line`), unless it already does or has no place."""
    if reason.where is None:
        reason.where = place(node)
    return reason


@deep
def linearize(exts, signature) -> Linearization | Unsupported:
    """The target's statistical linearisation (canonical AST, target last), or the reason it has none."""
    functions = [e for e in exts if isinstance(e, c_ast.FuncDef)]
    if not functions:
        return Unsupported("no function")
    target = next((f for f in functions if f.decl.name == TARGET_NAME), functions[-1])
    unproven_steps[0] = 0
    try:
        with np.errstate(all="ignore"):
            return Interpreter(exts, signature.n_in).run_target(target, signature)
    except Unsupported as e:
        return e
    except OverflowError:  # Python's float arithmetic on constants (math.exp, **)
        return Unsupported("an overflow")
    except (ZeroDivisionError, ValueError, IndexError, KeyError) as e:  # (a RecursionError is no reason: it is
        return Unsupported(f"{type(e).__name__}: {e}")                   # nsc's limit, recursion.py reports it)


@deep
def linearize_tokens(tokens, signature) -> Linearization | Unsupported:
    """`linearize` of canonical tokens (as the corpus stores programs)."""
    from nsc.analysis.dataflow import canonical_text

    try:
        ast = c_parser.CParser().parse(canonical_text(tokens), "<canonical>")
    except Exception as e:  # noqa: BLE001 - a parse failure is a reason, not a crash
        return Unsupported(f"re-parse: {e}")
    return linearize(list(ast.ext), signature)
