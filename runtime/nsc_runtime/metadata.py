"""What a valid nsc surrogate's metadata is: the one definition, read by `nsc_runtime.load` and by nsc itself
(nsc/surrogate/onnx_io.py, on every load and before every save).

A surrogate file is untrusted input: its ``nsc.*`` metadata_props (NOTES.md section 3) may have been edited. Every
field is checked here, whole, before anything uses it, and the first problem is a `MetadataError` whose message
names the field (``damaged nsc surrogate (nsc.signature: inputs[1] 'x': lo is 'abc', not a number)``), so a
tampered file gives one line, never a traceback and never a wrong prediction (two inputs with one name would
leave one of them unused).

Fields (all strings in the file; JSON where marked):
  nsc.format          "1": the contract's version (`SUPPORTED_FORMAT` is the newest this code reads)
  nsc.signature       JSON: function, return_ctype, params, inputs (with finite ranges lo < hi), outputs, state
  nsc.source_sha256   text; nsc.compiler: text (printable, at most MAX_TEXT characters)
  nsc.history         JSON list of objects (its `event` and `time`, where present, are text)
  nsc.out_calibrated  "true" or "false";  nsc.activation: one of ACTIVATIONS
  nsc.hidden          JSON list of positive widths;  nsc.extra (optional): JSON object (`exact` a bool,
                      `closed_form_error` a finite number >= 0, the `structural` and `distilled` records' stated
                      errors such numbers, where present: check_extra)
  nsc.certificate, nsc.guard (optional): JSON records of `nsc check` (records.py)
Other ``nsc.<key>`` fields are free text; keys without the prefix are not nsc's and are passed through.

Depends on numpy and the standard library (nsc imports it without loading onnxruntime).
"""

from __future__ import annotations

import json
import math
import re

from nsc_runtime.records import check_certificate, check_guard
from nsc_runtime.weights import ACTIVATIONS

SUPPORTED_FORMAT = 1  # newest nsc.format this code reads; nsc.surrogate.onnx_io.FORMAT_VERSION must agree
PREFIX = "nsc."
REQUIRED = ("format", "signature", "source_sha256", "compiler", "history", "out_calibrated", "activation", "hidden")
JSON_FIELDS = ("signature", "history", "hidden", "extra", "certificate", "guard")
MAX_TEXT = 1024  # characters of a name or a text field (a C identifier longer than this is not a program's)

# C scalar types, canonical spellings (the front-end resolves typedefs to these), and what the integers hold on
# LP64 (x86_64, aarch64 Linux; char is signed there).
INTEGER_LIMITS = {
    "_Bool": (0, 1), "char": (-2**7, 2**7 - 1), "signed char": (-2**7, 2**7 - 1), "unsigned char": (0, 2**8 - 1),
    "short": (-2**15, 2**15 - 1), "unsigned short": (0, 2**16 - 1), "int": (-2**31, 2**31 - 1),
    "unsigned int": (0, 2**32 - 1), "long": (-2**63, 2**63 - 1), "unsigned long": (0, 2**64 - 1),
    "long long": (-2**63, 2**63 - 1), "unsigned long long": (0, 2**64 - 1),
}
INTEGER_TYPES = tuple(INTEGER_LIMITS)
FLOAT_TYPES = ("float", "double", "long double")
SCALAR_TYPES = INTEGER_TYPES + FLOAT_TYPES
FLOAT32_MAX = 3.4028235e38  # float's largest value as C writes it (FLT_MAX rounded): inputs are float32

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_PORT_NAME = re.compile(r"(?P<base>[A-Za-z_$][A-Za-z0-9_$]*)(?:\[(?P<index>[0-9]+)\])?(?P<prime>')?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class MetadataError(ValueError):
    """A surrogate's metadata is not what nsc writes; str() is the whole one-line reason, `detail` the field and
    its problem alone (``nsc.signature: inputs[1] 'x': lo is 'abc', text, not a number``)."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.detail = detail or message


def _damaged(field: str, problem: str) -> MetadataError:
    return MetadataError(f"damaged nsc surrogate ({field}: {problem})", f"{field}: {problem}")


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _expect(ok: bool, field: str, value, wanted: str) -> None:
    if not ok:
        raise _damaged(field, f"{_show(value)} is {_kind(value)}, not {wanted}")


def _text(value, field: str, pattern: re.Pattern | None = None, wanted: str = "text") -> str:
    _expect(isinstance(value, str), field, value, wanted)
    if len(value) > MAX_TEXT:
        raise _damaged(field, f"{len(value)} characters long (at most {MAX_TEXT})")
    if pattern is not None:
        _expect(pattern.fullmatch(value) is not None, field, value, wanted)
    elif _CONTROL.search(value):
        raise _damaged(field, f"{_show(value)} holds control characters")
    return value


def _integer(value, field: str, low: int, wanted: str) -> int:
    _expect(isinstance(value, int) and not isinstance(value, bool) and value >= low, field, value, wanted)
    return value


def _boolean(value, field: str) -> bool:
    _expect(isinstance(value, bool), field, value, "true or false")
    return value


def _number(value, field: str) -> float:
    _expect(isinstance(value, (int, float)) and not isinstance(value, bool), field, value, "a number")
    if not math.isfinite(value):
        raise _damaged(field, f"{value} is not a finite number")
    return float(value)


def _object(value, field: str, required: tuple[str, ...]) -> dict:
    _expect(isinstance(value, dict), field, value, "an object")
    missing = [k for k in required if k not in value]
    if missing:
        raise _damaged(field, f"no '{missing[0]}' field")
    return value


def _json(text: str, field: str):
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise _damaged(field, "not valid JSON (nested too deeply)") from None
    except ValueError as e:  # JSONDecodeError, NaN/Infinity, integers of more digits than Python converts
        raise _damaged(field, f"not valid JSON ({str(e).splitlines()[0][:80]})") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


# ------------------------------------------------------------------------------------------------ the signature

def check_signature(sig) -> dict:
    """`sig` (the decoded nsc.signature) if it is one nsc writes, else MetadataError naming the first bad field."""
    f = "nsc.signature"
    _object(sig, f, ("function", "params", "inputs", "outputs"))
    _text(sig["function"], f"{f}: function", _IDENTIFIER, "a C identifier")
    return_ctype = sig.get("return_ctype")
    if return_ctype is not None:
        _expect(return_ctype in SCALAR_TYPES, f"{f}: return_ctype", return_ctype, "a C scalar type or null")
    params = _list(sig["params"], f"{f}: params")
    shapes = {}
    for k, p in enumerate(params):
        where = f"{f}: params[{k}]"
        _object(p, where, ("name", "ctype"))
        name = _text(p["name"], f"{where}.name", _IDENTIFIER, "a C identifier")
        if name in shapes or name == "return":
            raise _damaged(where, f"a second parameter named '{name}'" if name in shapes else "named 'return'")
        _expect(p["ctype"] in SCALAR_TYPES, f"{where}.ctype", p["ctype"], "a C scalar type")
        shape = p.get("shape")
        if shape is not None:
            _integer(shape, f"{where}.shape", 1, "a positive integer or null")
        for flag in ("is_pointer", "is_const", "reads", "writes"):
            if flag in p:
                _boolean(p[flag], f"{where}.{flag}")
        shapes[name] = (shape, p["ctype"])
    if return_ctype is not None:
        shapes["return"] = (None, return_ctype)
    seen: dict[str, str] = {}
    for role in ("inputs", "outputs"):
        ports = _list(sig[role], f"{f}: {role}")
        if not ports:
            raise _damaged(f"{f}: {role}", "empty (a surrogate has at least one input and one output)")
        for k, port in enumerate(ports):
            name = _port(port, f"{f}: {role}[{k}]", role, shapes)
            if name in seen:
                raise _damaged(f"{f}: {role}[{k}]", f"a second column named '{name}' (the first is an {seen[name]})")
            seen[name] = role[:-1]
        _check_order(ports, _columns(params, return_ctype, role), shapes, f"{f}: {role}")
    if "state" in sig:
        for k, name in enumerate(_list(sig["state"], f"{f}: state")):
            _text(name, f"{f}: state[{k}]", _IDENTIFIER, "a C identifier")
    return sig


def _columns(params: list, return_ctype, role: str):
    """The (param, index) of each column, in the order nsc writes them (nsc/frontend/signature.py): the return
    value first among the outputs, then each parameter the function reads (inputs) or writes (outputs), in
    parameter order, element by element."""
    if role == "outputs" and return_ctype is not None:
        yield "return", None
    for p in params:
        if p.get("reads", True) if role == "inputs" else p.get("writes", False):
            shape = p.get("shape")
            yield from ((p["name"], None),) if shape is None else ((p["name"], i) for i in range(shape))


def _check_order(ports: list, columns, shapes: dict, field: str) -> None:
    """The ports are `columns`, in order: a column moved or relabelled would feed a value to another input, or
    name another output's prediction."""
    columns = iter(columns)
    for k, port in enumerate(ports):
        param, index = port["param"], port.get("index")
        if index is None and shapes[param][0] == 1:
            index = 0  # a pointer to one element: its column is `p` or `p[0]`
        wanted = next(columns, None)
        if wanted is None:
            raise _damaged(f"{field}[{k}] '{port['name']}'", "one column more than the parameters have")
        if (param, index) != wanted:
            raise _damaged(f"{field}[{k}] '{port['name']}'", f"not the column nsc writes here ({_column(wanted)}: the "
                                                            "parameters' elements, in parameter order)")
    missing = next(columns, None)
    if missing is not None:
        raise _damaged(field, f"no column for {_column(missing)}")


def _column(key) -> str:
    return key[0] + ("" if key[1] is None else f"[{key[1]}]")


def _list(value, field: str) -> list:
    _expect(isinstance(value, list), field, value, "a list")
    return value


def _port(port, where: str, role: str, shapes: dict) -> str:
    """A port's checks (see check_signature); returns its column name."""
    _object(port, where, ("name", "param", "ctype") + (("lo", "hi") if role == "inputs" else ()))
    name = _text(port["name"], f"{where}.name", _PORT_NAME, "a column name like x, a[2] or p'")
    where = f"{where} '{name}'"
    param = port["param"]
    _expect(isinstance(param, str) and param in shapes and (role == "outputs" or param != "return"),
            f"{where}: param", param,
            "one of the function's parameters" + (" or 'return'" if role == "outputs" else ""))
    shape, ctype = shapes[param]
    index = port.get("index")
    if index is not None:
        _integer(index, f"{where}: index", 0, "an element index or null")
        if shape is None or index >= shape:
            raise _damaged(where, f"index {index} is outside '{param}' ({shape or 'a scalar'})")
    parts = _PORT_NAME.fullmatch(name)
    wanted = param if index is None else f"{param}[{index}]"
    if parts.group(0).rstrip("'") != wanted or (parts.group("prime") and role == "inputs"):
        raise _damaged(where, f"the name does not match param '{param}' and index {index}")
    _expect(port["ctype"] == ctype, f"{where}: ctype", port["ctype"], f"'{ctype}', the type of '{param}'")
    if role == "inputs":
        _range(port, where, ctype)
    elif port.get("lo") is not None or port.get("hi") is not None:
        raise _damaged(where, "an output has no range")
    return name


def _range(port: dict, where: str, ctype: str) -> None:
    """An input's range: finite numbers lo < hi that fit its type (`range_fit`)."""
    lo, hi = _number(port["lo"], f"{where}: lo"), _number(port["hi"], f"{where}: hi")
    if not lo < hi:
        raise _damaged(where, f"lo ({lo:g}) is not below hi ({hi:g})")
    low_bad, high_bad, why = range_fit(port["name"], ctype, lo, hi)
    if low_bad or high_bad:
        raise _damaged(where, f"range {lo:g} to {hi:g} {why}")


def range_fit(name: str, ctype: str, lo: float, hi: float) -> tuple[bool, bool, str]:
    """(LO is bad, HI is bad, why) for the range [lo, hi] of input `name` of C type `ctype`: an integer type's
    values must hold it (for integers the sampled [ceil(LO), floor(HI)], not empty), every other input's |LO|,
    |HI| must fit float32. The rule the front-end applies to ranges (nsc/frontend/ranges.py) and `load` to
    signatures."""
    if ctype in INTEGER_LIMITS:
        tmin, tmax = INTEGER_LIMITS[ctype]
        # (a bound is a float: 18446744073709551615 reads as 2^64, the float nearest the type's largest value)
        low_bad = math.ceil(lo) < tmin and lo != float(tmin)
        high_bad = math.floor(hi) > tmax and hi != float(tmax)
        why = f"does not fit its type '{ctype}', which holds {tmin} to {tmax}"
        if not (low_bad or high_bad) and math.ceil(lo) > math.floor(hi):
            low_bad, why = True, f"holds no integer, and '{name}' is of type '{ctype}'"
        return low_bad, high_bad, why
    why = (f"does not fit its type 'float', which holds -{FLOAT32_MAX!r} to {FLOAT32_MAX!r}" if ctype == "float" else
           f"is too wide for the surrogate, which holds inputs as float32 (|LO|, |HI| <= {FLOAT32_MAX!r})")
    return abs(lo) > FLOAT32_MAX, abs(hi) > FLOAT32_MAX, why


# ------------------------------------------------------------------------------------------------ all fields

def decode_metadata(pairs) -> dict:
    """The checked metadata of a surrogate from its metadata_props (a dict, or (key, value) pairs as stored):
    {format: int, signature: dict, history: list, hidden: list, extra: dict, out_calibrated: bool, activation,
    source_sha256, compiler, other nsc.<key>: str, other keys: str}. MetadataError naming the first problem."""
    pairs = list(pairs.items() if isinstance(pairs, dict) else pairs)
    raw: dict[str, str] = {}
    for key, value in pairs:
        if key in raw and key.startswith(PREFIX):  # (which of two signatures would be the real one?)
            raise _damaged(key, "given twice")
        raw[key] = value
    if PREFIX + "format" not in raw:
        raise MetadataError("ONNX model not made by nsc (it has no nsc.format metadata)")
    fmt = raw[PREFIX + "format"]
    if not re.fullmatch(r"[0-9]{1,6}", fmt) or int(fmt) < 1:
        raise _damaged("nsc.format", f"{_show(fmt)} is not a format version")
    if int(fmt) > SUPPORTED_FORMAT:
        raise MetadataError(f"made by a newer nsc (surrogate format {int(fmt)}; this nsc and nsc-runtime read format "
                            f"{SUPPORTED_FORMAT} and older): upgrade them")
    missing = [PREFIX + k for k in REQUIRED if PREFIX + k not in raw]
    if missing:
        raise _damaged(missing[0], "missing")
    meta: dict = {key: value for key, value in raw.items() if not key.startswith(PREFIX)}  # not nsc's: as given
    for key, value in raw.items():  # (after them: a foreign 'compiler' key cannot stand in for nsc.compiler)
        short = key[len(PREFIX):]
        if key.startswith(PREFIX) and short not in JSON_FIELDS:
            meta[short] = _text(value, key)
    meta["format"] = int(fmt)
    meta["signature"] = check_signature(_json(raw[PREFIX + "signature"], "nsc.signature"))
    meta["history"] = check_history(_json(raw[PREFIX + "history"], "nsc.history"))
    hidden = _list(_json(raw[PREFIX + "hidden"], "nsc.hidden"), "nsc.hidden")
    meta["hidden"] = [_integer(w, f"nsc.hidden[{k}]", 1, "a positive width") for k, w in enumerate(hidden)]
    meta["extra"] = check_extra(_json(raw.get(PREFIX + "extra", "{}"), "nsc.extra"))
    columns = [p["name"] for p in meta["signature"]["inputs"]], [p["name"] for p in meta["signature"]["outputs"]]
    for key, check in (("certificate", check_certificate), ("guard", check_guard)):
        if PREFIX + key in raw:
            try:
                meta[key] = check(_json(raw[PREFIX + key], PREFIX + key), *columns)
            except ValueError as e:
                if isinstance(e, MetadataError):
                    raise
                raise MetadataError(f"damaged nsc surrogate ({e})", str(e)) from None
    _expect(raw[PREFIX + "out_calibrated"] in ("true", "false"), "nsc.out_calibrated", raw[PREFIX + "out_calibrated"],
            "'true' or 'false'")
    meta["out_calibrated"] = raw[PREFIX + "out_calibrated"] == "true"
    _expect(raw[PREFIX + "activation"] in ACTIVATIONS, "nsc.activation", raw[PREFIX + "activation"],
            f"one of {', '.join(ACTIVATIONS)}")
    return meta


def check_history(history) -> list:
    """nsc.history: a list of objects, whose `event` and `time` are text where present."""
    for k, event in enumerate(_list(history, "nsc.history")):
        _object(event, f"nsc.history[{k}]", ())
        for key in ("event", "time"):
            if key in event:
                _text(event[key], f"nsc.history[{k}].{key}")
    return history


def check_extra(extra, field: str = "nsc.extra") -> dict:
    """nsc.extra: an object; where present, `exact` a bool, `closed_form_error` a finite number >= 0, and
    `structural` and `distilled` objects whose `estimated_error` and `ramp_error` are lists of such numbers; a
    distilled model's `distillation_error` such a number, its `teacher` the teacher's own extra (checked alike)
    and that teacher's `trace` an object."""
    _object(extra, field, ())
    if "exact" in extra:
        _boolean(extra["exact"], f"{field}.exact")
    if "closed_form_error" in extra:
        _error(extra["closed_form_error"], f"{field}.closed_form_error")
    for key in ("structural", "distilled"):
        if key in extra:
            record = _object(extra[key], f"{field}.{key}", ())
            for errors in ("estimated_error", "ramp_error"):
                if errors in record:
                    where = f"{field}.{key}.{errors}"
                    for k, error in enumerate(_list(record[errors], where)):
                        _error(error, f"{where}[{k}]")
    distilled = extra.get("distilled", {})
    if "distillation_error" in distilled:
        _error(distilled["distillation_error"], f"{field}.distilled.distillation_error")
    if "teacher" in distilled:
        teacher = check_extra(distilled["teacher"], f"{field}.distilled.teacher")
        if "trace" in teacher:
            _object(teacher["trace"], f"{field}.distilled.teacher.trace", ())
    return extra


def _error(value, field: str) -> float:
    """A stated error: a finite number >= 0."""
    error = _number(value, field)
    if error < 0:
        raise _damaged(field, f"{error:g} is negative")
    return error


def check_widths(meta: dict, n_in, n_out, hidden=None) -> None:
    """MetadataError unless the signature's column counts (and nsc.hidden, where `hidden` is given) are the
    graph's: n_in columns of x, n_out of y, hidden layer widths."""
    sig = meta["signature"]
    if (len(sig["inputs"]), len(sig["outputs"])) != (n_in, n_out):
        raise _damaged("nsc.signature", f"{len(sig['inputs'])} inputs and {len(sig['outputs'])} outputs, but the "
                                        f"graph has {n_in} and {n_out}")
    if hidden is not None and list(hidden) != meta["hidden"]:
        raise _damaged("nsc.hidden", f"{meta['hidden']}, but the weights' hidden layers are {list(hidden)}")
