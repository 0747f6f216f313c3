"""The computation graph: what the target function computes, as a DAG of elementary operations.

trace.py builds it from the C code (the program is never run); network.py translates it into the surrogate's
layers. Three kinds of node, each with an exact neural translation:

    affine  bias + sum_k coef_k * operand_k    sums, differences, scalings by constants: exact linear layers
    mul     a * b                              a product of two computed values: squares, or a gate where one
                                               factor is a 0/1 truth value
    fn      f(a) for a named function of one   math.h calls, 1/x, x^c, steps (a comparison with 0), truncation,
            value (Node.fn, with Node.param)   C's integer wrap-around, a table read at a computed index

Everything else is rewritten into these as it is built: a / b = a * recip(b); fmin/fmax/fabs through relu;
select(c, a, b) = b + c * (a - b) with c a 0/1 truth; && and || as products and sums of truths; atan2, hypot,
pow and fmod of two values through one-variable functions and products. Constants are Python numbers, folded
as C would compute them; equal nodes are built once (hash-consing), so common subexpressions are shared.

Each node knows its *source*: the one node it is a function of, if there is one. An input is its own source; a
node whose operands all have the same source s is a one-variable function of s (a chain such as
exp(-0.5 * x * x), or a whole helper of one argument) and network.py tabulates it as one block on s's range;
a node whose operands have different sources is a source itself. `evaluate` computes nodes from values of their
sources (numpy, float64), which is how a one-variable chain is tabulated on a grid of its source.
"""

from __future__ import annotations

import math

import numpy as np


class Node:
    """One operation. For `affine`, args are the operands and param is (coefficients, bias); for `fn`, args is
    the operand and fn / param name the function; for `mul`, args are the two factors."""

    __slots__ = ("id", "op", "args", "fn", "param", "is_int", "is_bool", "src", "affine_in_src", "_bounds", "hull",
                 "depth")

    def __init__(self, nid, op, args, fn=None, param=None, is_int=False, is_bool=False):
        self.id, self.op, self.args, self.fn, self.param = nid, op, args, fn, param
        self.is_int, self.is_bool = is_int, is_bool
        self._bounds = None  # (lo, hi) over the input box, computed when first asked for (`bounds_of`)
        self.hull = None  # (a, b) where this node is a select of a and b: it lies within their bounds too
        source = args[0].src if args else None
        one_source = source is not None
        for a in args:  # (loops, not all(): a long loop makes 100k nodes)
            if a.src is not source:
                one_source = False
                break
        # `==` of a computed value is a spike, a block of its own (network.py); of an integer, two steps, which
        # the block of the integer's own source tabulates at rounded values (a switch on an int input)
        if op == "input" or not one_source or (fn == "eq0" and not args[0].is_int):
            self.src, self.affine_in_src = self, True
        else:
            self.src = source
            self.affine_in_src = op == "affine"
            for a in args:
                if not a.affine_in_src:
                    self.affine_in_src = False
                    break
        # the layers its network needs at the least: one a block, product or gate on the longest chain
        if op == "input":
            self.depth = 0
        elif self.src is not self:
            self.depth = self.src.depth + (0 if self.affine_in_src else 1)
        elif op == "mul" and is_bool:  # (a product of truths flattens into one layer with its factors')
            self.depth = max(a.depth - (a.op == "mul" and a.is_bool) for a in args) + 1
        else:
            self.depth = max(a.depth for a in args) + (0 if op == "affine" else 1)

    @property
    def lo(self) -> float:
        return self.bounds()[0]

    @property
    def hi(self) -> float:
        return self.bounds()[1]

    def bounds(self) -> tuple[float, float]:
        if self._bounds is None:  # operands first, without deep recursion
            pending = [self]
            while pending:
                node = pending[-1]
                arms = [a for a in node.hull or () if is_node(a)]
                missing = [a for a in (*node.args, *arms) if a._bounds is None]
                if missing:
                    pending.extend(missing)
                    continue
                pending.pop()
                if node._bounds is None:
                    node._bounds = bounds_of(node)
                    if node.hull is not None:  # a select: interval arithmetic on b + c (a - b) is loose
                        ends = [x for a in node.hull for x in ((a.lo, a.hi) if is_node(a) else (a, a))]
                        lo, hi = node._bounds
                        node._bounds = (max(lo, min(ends)), min(hi, max(ends)))
        return self._bounds

    def __repr__(self) -> str:
        return f"#{self.id}:{self.fn or self.op}"

    def __hash__(self):
        return self.id

    def __eq__(self, other):
        return self is other


def is_node(v) -> bool:
    return isinstance(v, Node)


def _limits(kind):
    lo, hi = kind
    return int(lo), int(hi)


def _wrap(x, lo, hi):
    if (lo, hi) == (0, 1):
        return (x != 0).astype(np.float64)
    return np.mod(x - lo, hi - lo + 1) + lo


def _table(x, values):
    v = np.asarray(values, dtype=np.float64)
    idx = np.clip(np.trunc(np.nan_to_num(x, nan=0.0, posinf=len(v) - 1, neginf=0)), 0, len(v) - 1).astype(np.int64)
    return v[idx]


def _round(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


_ERF = np.vectorize(math.erf, otypes=[float])
_ERFC = np.vectorize(math.erfc, otypes=[float])
_GAMMA = np.vectorize(lambda x: math.gamma(x) if x > 0 or x != int(x) else np.nan, otypes=[float])
_LGAMMA = np.vectorize(lambda x: math.lgamma(x) if x > 0 or x != int(x) else np.nan, otypes=[float])

# name -> f(x, param), numpy float64 in and out (the C semantics of each one-variable step)
FUNCTIONS = {
    "sin": lambda x, p: np.sin(x), "cos": lambda x, p: np.cos(x), "tan": lambda x, p: np.tan(x),
    "asin": lambda x, p: np.arcsin(x), "acos": lambda x, p: np.arccos(x), "atan": lambda x, p: np.arctan(x),
    "sinh": lambda x, p: np.sinh(x), "cosh": lambda x, p: np.cosh(x), "tanh": lambda x, p: np.tanh(x),
    "asinh": lambda x, p: np.arcsinh(x), "acosh": lambda x, p: np.arccosh(x), "atanh": lambda x, p: np.arctanh(x),
    "exp": lambda x, p: np.exp(x), "exp2": lambda x, p: np.exp2(x), "expm1": lambda x, p: np.expm1(x),
    "log": lambda x, p: np.log(x), "log2": lambda x, p: np.log2(x), "log10": lambda x, p: np.log10(x),
    "log1p": lambda x, p: np.log1p(x), "sqrt": lambda x, p: np.sqrt(x), "cbrt": lambda x, p: np.cbrt(x),
    "floor": lambda x, p: np.floor(x), "ceil": lambda x, p: np.ceil(x), "round": lambda x, p: _round(x),
    "trunc": lambda x, p: np.trunc(x), "rint": lambda x, p: np.rint(x),
    "erf": lambda x, p: _ERF(x), "erfc": lambda x, p: _ERFC(x),
    "tgamma": lambda x, p: _GAMMA(x), "lgamma": lambda x, p: _LGAMMA(x),
    "recip": lambda x, p: 1.0 / x,
    "powc": lambda x, p: np.power(x, p),  # x ** constant
    "cpow": lambda x, p: np.power(p, x),  # constant ** x
    "fmodc": lambda x, p: np.fmod(x, p),
    "idivc": lambda x, p: np.trunc(x / p),  # C's integer division by a constant (x / 5, not x * 0.2: exact)
    "relu": lambda x, p: np.maximum(x, 0.0), "abs": lambda x, p: np.abs(x),
    "atan2y": lambda x, p: np.arctan2(x, p),  # atan2(x, constant)
    "atan2x": lambda x, p: np.arctan2(p, x),  # atan2(constant, x)
    "f32": lambda x, p: x.astype(np.float32).astype(np.float64),  # C's conversion to float
    "gt0": lambda x, p: (x > 0).astype(np.float64),
    "ge0": lambda x, p: (x >= 0).astype(np.float64),
    "eq0": lambda x, p: (x == 0).astype(np.float64),
    "wrap": lambda x, p: _wrap(x, *_limits(p)),  # conversion to an integer type of range p = (lo, hi)
    "table": lambda x, p: _table(x, p),  # p: the table's values, read at trunc(x), clipped to the table
    # frexp's two parts: x = mantissa 2^exponent, |mantissa| in [0.5, 1), both 0 at x = 0 (steps at powers of 2)
    "exponent": lambda x, p: np.frexp(x)[1].astype(np.float64), "mantissa": lambda x, p: np.frexp(x)[0],
}
BOOLEAN_FUNCTIONS = ("gt0", "ge0", "eq0")
FLATTEN_TERMS = 16  # an affine operand with more terms than this is kept as one term (`Graph.affine`)
MAX_DEPTH = 96  # the most layers a structural network may have (network.py); a graph far deeper is not worth tracing
INTEGER_FUNCTIONS = ("floor", "ceil", "round", "trunc", "rint", "wrap", "idivc", "exponent")
# math.h names (and their float/long double variants) that are one-variable functions above
MATH_NAMES = ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
              "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "floor", "ceil", "round",
              "trunc", "rint", "erf", "erfc", "tgamma", "lgamma")


class Graph:
    """The nodes of one function, in creation order (operands before the nodes that use them)."""

    def __init__(self):
        self.nodes: list[Node] = []
        self._memo: dict = {}
        self.inputs: list[Node] = []
        self._poles: dict[int, bool] = {}  # node id -> _reaches_pole, so a long chain of sums is walked once
        self._negations: dict[int, Node] = {}  # node id -> negate(node), the node affine() makes or finds for it

    def _make(self, op, args, fn=None, param=None, is_int=False, is_bool=False) -> Node:
        key = (op, tuple([a.id for a in args]), fn, _hashable(param), is_int, is_bool)
        node = self._memo.get(key)
        if node is None:
            node = Node(len(self.nodes), op, tuple(args), fn, param, is_int, is_bool)
            self.nodes.append(node)
            self._memo[key] = node
        return node

    def find(self, op: str, args: tuple, fn=None, param=None, is_int=False, is_bool=False):
        """The node (op, args, fn, param) if the graph has it, else None (nothing is made)."""
        return self._memo.get((op, tuple(a.id for a in args), fn, _hashable(param), is_int, is_bool))

    # -- leaves -------------------------------------------------------------------------------------------------

    def input(self, index: int, is_int: bool, lo: float, hi: float) -> Node:
        node = Node(len(self.nodes), "input", (), param=index, is_int=is_int)
        node._bounds = (float(lo), float(hi))
        self.nodes.append(node)
        self.inputs.append(node)
        return node

    # -- affine ------------------------------------------------------------------------------------------------

    def affine(self, terms, bias=0.0, is_int=False, is_bool=False):
        """bias + sum coef * v over terms [(v, coef)], where v is a Node or a number (is_bool: the caller knows
        the result is a 0/1 truth)."""
        coefs: dict[int, list] = {}  # node id -> [node, coefficient] (ids: a node's hash is Python code)
        stack = list(terms)
        while stack:  # flattened down to non-affine nodes and sources (an affine node's operands may be affine)
            v, k = stack.pop()
            if not isinstance(v, Node):
                bias += k * v
            elif v.op == "affine" and v.src is not v and len(v.args) <= FLATTEN_TERMS:
                # (a sum of several sources is a source itself and stays whole: x - f(x) for x = a + b is a
                # function of x alone, not a new direction in a, b and f; a long sum stays whole too, or a chain
                # of n selects, each b + c (a - b), would hold n terms at its end: n^2 work to evaluate)
                stack.extend([(a, k * ka) for a, ka in zip(v.args, v.param[0])])
                bias += k * v.param[1]
            elif v.id in coefs:
                coefs[v.id][1] += k
            else:
                coefs[v.id] = [v, 0.0 + k]
        items = [(coefs[nid][0], coefs[nid][1]) for nid in sorted(coefs) if coefs[nid][1] != 0.0]
        if not items:
            return int(bias) if is_int and float(bias).is_integer() else float(bias)
        if len(items) == 1 and items[0][1] == 1.0 and bias == 0.0:
            return items[0][0]
        if len(items) > 1:
            # x - y, y - x and 2 (x - y) + 1 are one-variable functions of one node, the direction: the first
            # coefficient made 1 (or, for integer coefficients, their gcd with its sign: 5 i + j stays in
            # integers) and no bias; so a comparison and the value it tests share their source
            k0 = items[0][1]
            ks = [k for _, k in items]
            integral = all([float(k).is_integer() for k in ks])
            if integral:
                k0 = math.copysign(math.gcd(*[int(k) for k in ks]), k0)
            args = tuple([a for a, _ in items])
            direction = self._make("affine", args, param=(tuple([float(k / k0) for k in ks]), 0.0),
                                   is_int=integral and all([a.is_int for a in args]))
            if k0 == 1.0 and bias == 0.0 and direction.is_int == (is_int or is_bool) and not is_bool:
                return direction
            return self._make("affine", (direction,), param=((float(k0),), float(bias)), is_int=is_int or is_bool,
                              is_bool=is_bool)
        return self._make("affine", (items[0][0],), param=((float(items[0][1]),), float(bias)),
                          is_int=is_int or is_bool, is_bool=is_bool)

    def as_float(self, a):
        """C's conversion of an integer value to double: the same value, not an integer (so `/` divides it
        exactly). affine() would return the node itself for 1 * a."""
        if not is_node(a) or not a.is_int:
            return a
        return self._make("affine", (a,), param=((1.0,), 0.0))

    def add(self, a, b, sign: float = 1.0, is_int=False):
        return self.affine([(a, 1.0), (b, sign)], is_int=is_int)

    def scale(self, a, k: float, is_int=False):
        return self.affine([(a, float(k))], is_int=is_int)

    # -- products ----------------------------------------------------------------------------------------------

    def mul(self, a, b, is_int=False):
        if not is_node(a) and not is_node(b):
            return a * b
        if not is_node(a):
            return self.scale(b, a, is_int)
        if not is_node(b):
            return self.scale(a, b, is_int)
        if a.is_bool and a is b:  # c * c = c for a truth
            return a
        x, y = (a, b) if a.id <= b.id else (b, a)
        return self._make("mul", (x, y), is_int=is_int, is_bool=a.is_bool and b.is_bool)

    def div(self, a, b):
        """a / b of floating values."""
        if not is_node(b):
            if b == 0:
                return None
            return self.scale(a, 1.0 / b) if is_node(a) else a / b
        return self.mul(a, self.fn("recip", b))

    # -- one-variable functions ----------------------------------------------------------------------------------

    def fn(self, name: str, a, param=None, is_int=False):
        """f(a) for a one-variable function of FUNCTIONS; folded for a constant a (None where C's result is not
        a finite number)."""
        is_bool = name in BOOLEAN_FUNCTIONS
        is_int = is_int or is_bool or name in INTEGER_FUNCTIONS
        if not is_node(a):
            with np.errstate(all="ignore"):
                y = float(FUNCTIONS[name](np.array([float(a)]), param)[0])
            if not math.isfinite(y):
                return None
            return int(y) if is_int else y
        if name in ("trunc", "floor", "ceil", "round", "rint") and a.is_int:
            return a
        if name == "wrap" and (a.is_bool or param[0] <= a.lo and a.hi <= param[1]):
            return a  # (a value that stays in the type's range is not wrapped)
        if name == "f32":
            if a.op == "fn" and a.fn == "f32":
                return a
            if a.is_int and max(-a.lo, a.hi) <= 2 ** 24:  # (an integer a float holds exactly)
                return self.as_float(a)
        return self._make("fn", (a,), fn=name, param=param, is_int=is_int, is_bool=is_bool)

    def log_abs(self, x):
        """log|x|, with the logarithm taken through products, scalings, reciprocals, powers and exp (so a chain
        of products is a sum of logs: log|a b / c^5| = log|a| + log|b| - 5 log|c|)."""
        total, terms, stack = 0.0, [], [(x, 1.0)]
        while stack:
            v, k = stack.pop()
            if not is_node(v):
                total += k * math.log(abs(v)) if v != 0 else -math.inf
            elif v.op == "mul" and not (v.args[0].is_bool or v.args[1].is_bool):
                stack.extend((a, k) for a in v.args)
            elif v.op == "affine" and len(v.args) == 1 and v.param[1] == 0.0:
                total += k * math.log(abs(v.param[0][0]))
                stack.append((v.args[0], k))
            elif v.op == "fn" and v.fn in ("recip", "sqrt", "abs", "powc", "exp"):
                if v.fn == "exp":
                    terms.append((v.args[0], k))
                else:
                    stack.append((v.args[0], k * {"recip": -1.0, "sqrt": 0.5, "abs": 1.0}.get(v.fn, v.param)))
            else:
                terms.append((self.fn("log", self.fn("abs", v)), k))
        return self.affine(terms, total)

    # -- truths and selects --------------------------------------------------------------------------------------

    def compare(self, op: str, a, b):
        """C's a op b as a 0/1 truth (a number where both are constants)."""
        if not is_node(a) and not is_node(b):
            return int({"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b, "==": a == b, "!=": a != b}[op])
        if any(not is_node(c) and math.isinf(c) for c in (a, b)):  # a computed value is finite: v < INFINITY
            return self.compare(op, a if not is_node(a) else 0.0, b if not is_node(b) else 0.0)
        if op in ("<", "<="):
            a, b, op = b, a, {"<": ">", "<=": ">="}[op]
        d = self.add(a, b, -1.0, is_int=_int(a) and _int(b))
        if not is_node(d):
            return self.compare(op, d, 0)
        holds, fails = _decided(op, d.lo, d.hi)
        if holds or fails:  # the bounds decide it over the whole input box
            return int(holds)
        cleared = self._without_pole(d)
        if cleared is not None:  # d = N / b with b crossing 0: d > 0 is N b > 0, d == 0 is N == 0
            n, b = cleared
            return self.compare(op, n if op in ("==", "!=") else self.mul(n, b), 0.0)
        if op == ">":
            return self.fn("gt0", d)
        if op == ">=":
            return self.fn("ge0", d)
        eq = self.fn("eq0", d)
        return eq if op == "==" else self.negate(eq)

    def _without_pole(self, d: Node):
        """(N, b) with d = N / b, where d is a sum of terms one of which divides by a b whose bounds hold 0 (a
        test of a quotient near its pole, as u = dot / det in a ray-triangle test); None otherwise."""
        if not self._reaches_pole(d):  # (flattening every sum a loop's selects chain, at each test, is n^2 work)
            return None
        terms, bias = _flat(d)
        for x, k in terms.items():
            parts = x.args if x.op == "mul" else (x,)
            recips = [r for r in parts if r.op == "fn" and r.fn == "recip" and r.args[0].lo <= 0 <= r.args[0].hi]
            if not recips:
                continue
            b = recips[0].args[0]
            rest = [r for r in parts if r is not recips[0]]
            numerator = [(rest[0] if rest else 1.0, k), (b, bias)]
            numerator += [(self.mul(y, b), ky) for y, ky in terms.items() if y is not x]
            return self.affine(numerator), b
        return None

    def _reaches_pole(self, d: Node) -> bool:
        """Does _flat(d) hold a term that is, or multiplies by, a recip whose operand's bounds hold 0?"""
        memo, pending = self._poles, [d]
        while pending:
            x = pending[-1]
            if x.id in memo:
                pending.pop()
            elif x.op != "affine":
                memo[x.id] = any(r.op == "fn" and r.fn == "recip" and r.args[0].lo <= 0 <= r.args[0].hi
                                 for r in (x.args if x.op == "mul" else (x,)))
                pending.pop()
            else:
                missing = [a for a in x.args if a.id not in memo]
                if missing:
                    pending.extend(missing)
                else:
                    memo[x.id] = any(memo[a.id] for a in x.args)
                    pending.pop()
        return memo[d.id]

    def truth(self, v):
        """C's truth of a value: 1 where it is non-zero."""
        if not is_node(v):
            return int(v != 0)
        return v if v.is_bool else self.negate(self.fn("eq0", v))

    def negate(self, c):
        if not is_node(c):
            return int(not c)
        negated = self._negations.get(c.id)
        if negated is None:  # (a loop's predicates negate the same flags at every store: asked once each)
            negated = self._negations[c.id] = self.affine([(c, -1.0)], 1.0, is_bool=True)
        return negated

    def both(self, a, b):
        if not is_node(a):
            return b if a else 0
        if not is_node(b):
            return a if b else 0
        if _negates(a, b) or _negates(b, a):
            return 0
        return self.mul(a, b, is_int=True)

    def either(self, a, b):
        return self.negate(self.both(self.negate(a), self.negate(b)))

    def select(self, c, a, b):
        """c ? a : b for a 0/1 truth c: b + c * (a - b)."""
        if not is_node(c):
            return a if c else b
        if a is b or (not is_node(a) and not is_node(b) and a == b):
            return a
        both_int = _int(a) and _int(b)
        out = self.add(b, self.mul(c, self.add(a, b, -1.0, is_int=both_int), is_int=both_int), is_int=both_int)
        if is_node(out) and out._bounds is None and out.hull is None:
            out.hull = (a, b)
        return out


def _flat(v: Node) -> tuple[dict, float]:
    """v as {non-affine node: coefficient}, bias."""
    if v.op != "affine":
        return {v: 1.0}, 0.0
    coefs, bias, stack = {}, 0.0, [(v, 1.0)]
    while stack:
        x, k = stack.pop()
        if x.op == "affine":
            stack.extend((a, k * ka) for a, ka in zip(x.args, x.param[0]))
            bias += k * x.param[1]
        else:
            coefs[x] = coefs.get(x, 0.0) + k
    return coefs, bias


def _negates(a: Node, b: Node) -> bool:
    """Is a the truth 1 - b?"""
    return a.op == "affine" and a.args == (b,) and a.param == ((-1.0,), 1.0)


def _int(v) -> bool:
    return v.is_int if is_node(v) else isinstance(v, int)


def _hashable(param):
    if isinstance(param, (list, np.ndarray)):
        return tuple(float(v) for v in param)
    return param


def bounds_of(node: Node) -> tuple[float, float]:
    """[lo, hi] of a node's values over the input box, from its operands' bounds: exact interval arithmetic for
    sums and products; a one-variable function's extremes over its operand's interval, from 129 points and the
    ends (exact for a function monotone on the interval; padded by 1% of the width for the rest, which bounds the
    smooth functions of math.h), exact for steps. Used to decide comparisons the whole box agrees on (a loop `i < n` stops past n's range)."""
    args = node.args
    with np.errstate(all="ignore"):
        if node.op == "affine":
            coefs, bias = node.param
            lo = bias + sum(k * (a.lo if k > 0 else a.hi) for k, a in zip(coefs, args))
            hi = bias + sum(k * (a.hi if k > 0 else a.lo) for k, a in zip(coefs, args))
            return _checked(lo, hi)
        if node.op == "mul":
            a, b = args
            ends = [x * y for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
            return _checked(min(ends), max(ends))
        a = args[0]
        if node.fn in BOOLEAN_FUNCTIONS:
            holds, fails = _decided({"gt0": ">", "ge0": ">=", "eq0": "=="}[node.fn], a.lo, a.hi)
            return (1.0, 1.0) if holds else (0.0, 0.0) if fails else (0.0, 1.0)
        if node.fn == "table":
            return float(min(node.param)), float(max(node.param))
        if not (math.isfinite(a.lo) and math.isfinite(a.hi)):
            return -math.inf, math.inf
        periodic = _periodic_bounds(node.fn, node.param, a.lo, a.hi)
        if periodic is not None:
            return periodic
        x = distinct(np.r_[np.linspace(a.lo, a.hi, 129), a.lo, a.hi, 0.0 if a.lo < 0 < a.hi else a.lo])
        y = FUNCTIONS[node.fn](x, node.param)
        if not np.isfinite(y).all():
            return -math.inf, math.inf
        lo, hi = float(y.min()), float(y.max())
        steps = np.diff(y)
        if node.fn == "recip" and a.lo <= 0 <= a.hi:
            return -math.inf, math.inf
        if not ((steps >= 0).all() or (steps <= 0).all()):  # monotone on the interval: the ends are exact
            pad = 0.01 * (hi - lo)
            lo, hi = lo - pad, hi + pad
        return lo, hi


def _periodic_bounds(fn: str, param, lo: float, hi: float) -> tuple[float, float] | None:
    """Bounds of the functions that 129 samples cannot bound, over an operand interval [lo, hi] wide enough to
    fool them: a remainder or an integer wrap-around over more than one period (every sample of x % 2 over
    [0, 3.7e17] is even: float64 has no odd numbers there, and `n % 2 == 0` was once decided true for a whole
    Collatz loop), sin and cos over a period or more, tan and the gamma functions over a pole. None: sampling
    bounds it (the function is monotone or smooth on the interval)."""
    if fn == "fmodc":  # the sign of x, less than |p| and |x| in size; x - k p on an interval within one period
        p = abs(param)
        if math.floor(lo / p) == math.floor(hi / p) and (lo >= 0 or hi <= 0):
            return None
        return (0.0 if lo >= 0 else max(-p, lo)), (0.0 if hi <= 0 else min(p, hi))
    if fn == "wrap":  # (a value within the type's range is not wrapped: Graph.fn)
        type_lo, type_hi = _limits(param)
        return None if type_lo <= lo and hi <= type_hi else (float(type_lo), float(type_hi))
    if fn in ("sin", "cos") and hi - lo >= 2 * math.pi:
        return -1.0, 1.0
    if fn == "tan" and math.floor((lo - math.pi / 2) / math.pi) != math.floor((hi - math.pi / 2) / math.pi):
        return -math.inf, math.inf
    if fn in ("tgamma", "lgamma") and lo <= 0:
        return -math.inf, math.inf
    return None


def distinct(values) -> np.ndarray:
    """The sorted distinct values (np.unique without its first call's import of numpy.ma, ~40 ms of a compile)."""
    a = np.sort(np.asarray(values, dtype=np.float64).ravel())
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a


def _decided(op: str, lo: float, hi: float) -> tuple[bool, bool]:
    """(holds everywhere, fails everywhere) for `d op 0` with d in [lo, hi]."""
    return {">": (lo > 0, hi <= 0), ">=": (lo >= 0, hi < 0), "==": (lo == hi == 0, lo > 0 or hi < 0),
            "!=": (lo > 0 or hi < 0, lo == hi == 0)}[op]


def _checked(lo, hi):
    return (float(lo), float(hi)) if lo <= hi else (-math.inf, math.inf)  # (nan: unknown)


def order_of(targets) -> list[Node]:
    """Every node the targets need, operands first (ids increase along every edge)."""
    seen, stack = {}, [t for t in targets if is_node(t)]
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen[node.id] = node
        stack.extend(a for a in node.args if a.id not in seen)
    return [seen[k] for k in sorted(seen)]


EQUALITY_TOLERANCE = 1e-4  # `==` of computed floating values, as the network tests it: within this share of the
#                            operand's bound (computed values that are equal in C differ by the network's error)


def tolerance(node: Node) -> float:
    """How far from 0 the network's value of `node` may be where C's is 0 (`evaluate(..., network=True)`)."""
    if node.is_int:
        return 0.5
    bound = max(abs(node.lo), abs(node.hi))
    return EQUALITY_TOLERANCE * bound if math.isfinite(bound) else 0.0


def without_rounding(graph: Graph, outputs: list) -> tuple[Graph, list]:
    """(graph, outputs) with C's float32 roundings taken out (an `f32` node is its operand), rebuilt through the
    constructors, so sums flatten and equal values merge as in the same program computed in doubles: the
    computation the network translates (network.py measures its error against the graph with the roundings).
    The inputs keep their order and bounds."""
    new = Graph()
    mapped: dict[int, object] = {}
    for node in graph.inputs:
        mapped[node.id] = new.input(node.param, node.is_int, node.lo, node.hi)
    order, _ = plan([o for o in outputs if is_node(o)], {n: None for n in graph.inputs})
    for node in order:
        args = [mapped[a.id] for a in node.args]
        if node.op == "affine":
            coefs, bias = node.param
            value = new.affine(list(zip(args, coefs)), bias, is_int=node.is_int, is_bool=node.is_bool)
        elif node.op == "mul":
            value = new.mul(args[0], args[1], is_int=node.is_int)
        elif node.fn == "f32":
            value = args[0]
        else:
            value = new.fn(node.fn, args[0], node.param, is_int=node.is_int)
            if value is None:  # (folded where C's value is not finite: the program's graph keeps it uncertain)
                value = new._make("fn", (args[0],), node.fn, node.param, node.is_int, node.is_bool)
        if node.hull is not None and is_node(value) and value.hull is None and \
                all(a.id in mapped for a in node.hull if is_node(a)):  # (a select's arms bound it)
            value.hull = tuple(mapped[a.id] if is_node(a) else a for a in node.hull)
        mapped[node.id] = value
    return new, [mapped[o.id] if is_node(o) else o for o in outputs]


def spread_inputs(lo: np.ndarray, hi: np.ndarray, integer: np.ndarray, n: int, n_edge: int) -> np.ndarray:
    """n points spread evenly over the box (a Kronecker sequence: frac(i sqrt(p)) per coordinate), then n_edge
    more whose coordinates follow the arcsine law (dense near the box's faces, where derived values often take
    their extremes: max(r, g, b) near 0 needs every input small); integer inputs rounded to their integers.
    Deterministic, so a program always compiles to the same network (network.py) and trace (trace.py's probe).
    The uniform points alone stand for the input distribution (network.py: block weights, stated errors); all of
    them decide the ranges blocks cover."""
    primes = [p for p in range(2, 10 * len(lo) + 10) if all(p % q for q in range(2, int(p ** 0.5) + 1))]
    steps = np.sqrt(np.array(primes[:len(lo)], dtype=np.float64))
    frac = np.modf(np.arange(1, n + n_edge + 1)[:, None] * steps[None, :])[0]
    frac[n:] = 0.5 - 0.5 * np.cos(np.pi * frac[n:])
    x = lo + frac * (hi - lo)
    if integer.any():
        span = np.floor(hi) - np.ceil(lo) + 1
        ints = np.ceil(lo) + np.minimum(np.floor(frac * span), span - 1)
        x = np.where(integer, ints, x)
    return x


_PLANS: dict = {}  # (targets, the nodes given) -> the nodes to compute, in order, and what each step frees


def plan(targets, env) -> tuple[list, list]:
    """(the nodes to compute for `targets` given those in env, in order; after each of them, the ids of the
    values no longer needed: targets and env kept), cached. Node ids, not nodes, in the sets and maps: a node's
    hash is Python code, and a long loop's plan has 100k nodes."""
    key = (tuple(t for t in targets if is_node(t)), frozenset(env))
    cached = _PLANS.get(key)
    if cached is None:  # (a one-variable chain is tabulated many times over: its order is worked out once)
        stop = {n.id for n in env}
        needed, stack = {}, [t for t in targets if is_node(t) and t.id not in stop]
        while stack:
            node = stack.pop()
            if node.id not in needed:
                needed[node.id] = node
                for a in node.args:
                    if a.id not in needed and a.id not in stop:
                        stack.append(a)
        order = [needed[nid] for nid in sorted(needed)]
        kept = stop | {t.id for t in targets if is_node(t)}
        last_use = {}
        for i, node in enumerate(order):
            for a in node.args:
                last_use[a.id] = i
        for nid in kept:
            last_use.pop(nid, None)
        frees = [[] for _ in order]
        for nid, i in last_use.items():
            frees[i].append(nid)
        cached = (order, frees)
        if len(_PLANS) >= 4096:
            _PLANS.clear()
        _PLANS[key] = cached
    return cached


def peak_live(targets, env) -> int:
    """The most values `evaluate(targets, env, keep_all=False)` holds at once (env and targets included): its
    memory is this many arrays of the rows evaluated."""
    order, frees = plan(targets, env)
    live = peak = len(env)
    for freed in frees:
        live += 1
        peak = max(peak, live)
        live -= len(freed)
    return peak


def evaluate(targets, env: dict, network: bool = False, keep_all: bool = True) -> dict:
    """Values (numpy float64 arrays, or numbers for constant targets) of the targets, given the values of some
    nodes in env {Node: array}; every other leaf the targets reach must be in env. Returns {Node: array}.
    network: C's semantics as the network computes them (network.py tabulates with it): `x == 0` of a computed
    value holds within `tolerance(x)` of 0, since equal computed values differ by the network's error.
    keep_all=False: the result holds the targets and env only, each other value dropped after its last use (a
    long unrolled loop's thousands of nodes over many rows would otherwise all stay in memory)."""
    order, frees = plan(targets, env)
    if keep_all:
        frees = [()] * len(order)
    values = {node.id: v for node, v in env.items()}  # by id (see plan)
    with np.errstate(all="ignore"):
        for node, freed in zip(order, frees):
            op = node.op
            if op == "affine":  # (in place: a long loop's graph is mostly small sums over many rows)
                coefs, bias = node.param
                args = node.args
                # a coefficient of 1 or -1 adds or subtracts without a product: the same numbers (1.0 * x is x,
                # x + (-1.0 * y) is x - y), a numpy call fewer each
                k, x = coefs[0], values[args[0].id]
                if len(args) > 1 and k == 1.0:  # (out is a new array either way: x is never written to)
                    k, y = coefs[1], values[args[1].id]
                    out = x + y if k == 1.0 else x - y if k == -1.0 else x + k * y
                    rest = zip(coefs[2:], args[2:])
                else:
                    out = k * x
                    rest = zip(coefs[1:], args[1:])
                for k, a in rest:
                    if k == 1.0:
                        out += values[a.id]
                    elif k == -1.0:
                        out -= values[a.id]
                    else:
                        out += k * values[a.id]
                if bias:
                    out += bias
            elif op == "mul":
                a, b = node.args
                if a.is_bool == b.is_bool:
                    out = values[a.id] * values[b.id]
                else:  # a gate, truth * value: the value where the truth is 1, else 0, even where the value is
                    truth, value = (a, b) if a.is_bool else (b, a)  # nan (a select's unused arm: sqrt(-1))
                    out = np.where(values[truth.id] == 0, 0.0, values[value.id])
            elif op == "input":
                raise KeyError(f"input {node.param} has no value")
            elif network and node.fn == "eq0":
                out = (np.abs(values[node.args[0].id]) <= tolerance(node.args[0])).astype(np.float64)
            else:
                out = FUNCTIONS[node.fn](values[node.args[0].id], node.param)
            values[node.id] = out
            for nid in freed:
                del values[nid]
    result = dict(env)
    for node in (order if keep_all else [t for t in targets if is_node(t)]):
        result[node] = values[node.id]
    return result
