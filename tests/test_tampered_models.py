"""Surrogate files are untrusted input (issue 17 part 4): every edited field of a model, metadata or weights, is
one line naming the field, the same line from nsc (`nsc inspect`, `nsc run`, `nsc finetune`, `onnx_io`) and from
nsc_runtime, which share one definition of a valid surrogate (nsc_runtime.validate); never a traceback, never a
wrong prediction. A table of hand-made tamperings, then a seeded fuzzer that mutates fields at random."""

from __future__ import annotations

import json
import random

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import helper, numpy_helper

import nsc_runtime
from nsc import toolchain
from nsc.cli import main
from nsc.errors import NscError
from nsc.surrogate import onnx_io
from nsc.surrogate.init import random_params
from nsc.surrogate.params import LINEAR_FLOOR

PROGRAM = """\
#pragma nsc range x -1 1
#pragma nsc range n 0 10
#pragma nsc range w 0 1
double f(double x, int n, const double w[2], double *out) { *out = x * n; return x + w[0] + w[1]; }
"""
ROW = {"x": 0.5, "n": 3.0, "w[0]": 0.25, "w[1]": 0.75}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> bytes:
    here = tmp_path_factory.mktemp("base")
    (here / "f.c").write_text(PROGRAM)
    toolchain.compile_file(here / "f.c", output=here / "f.onnx", init="random", seed=3)
    return (here / "f.onnx").read_bytes()


def load_bytes(model: bytes, directory) -> onnx_io.LoadedSurrogate:
    path = directory / "loaded.onnx"
    path.write_bytes(model)
    return onnx_io.load_surrogate(path)


@pytest.fixture(scope="module")
def floored(base, tmp_path_factory) -> bytes:
    """The same surrogate with per-unit floors (relu units and identity units: relu activation, f0 and f1)."""
    loaded = load_bytes(base, tmp_path_factory.mktemp("floored"))
    lo, hi = np.array([p["lo"] for p in loaded.signature_json["inputs"]]), \
        np.array([p["hi"] for p in loaded.signature_json["inputs"]])
    p = random_params(4, 2, lo, hi, seed=1, activation="relu")
    p.floors = [np.where(np.arange(w.shape[0]) % 2, 0.0, LINEAR_FLOOR).astype(np.float32) for w in p.weights[:-1]]
    return onnx_io.surrogate_bytes(p, loaded.signature_json, loaded.metadata)


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("data") / "d.csv"
    path.write_text("x,n,w[0],w[1],return,out\n0.5,3,0.25,0.75,1.5,1.5\n-0.5,2,0.5,0.5,0.5,-1\n" * 4)
    return str(path)


# ------------------------------------------------------------------------------------------------ editing files

def props_of(model: bytes) -> list[tuple[str, str]]:
    return [(p.key, p.value) for p in onnx.ModelProto.FromString(model).metadata_props]


def with_props(model: bytes, pairs) -> bytes:
    m = onnx.ModelProto.FromString(model)
    del m.metadata_props[:]
    for key, value in pairs:
        m.metadata_props.add(key=key, value=value)
    return m.SerializeToString()


def set_field(model: bytes, key: str, value) -> bytes:
    """`model` with metadata `key` set to `value` (a str as is, anything else as JSON; None removes it)."""
    pairs = [(k, v) for k, v in props_of(model) if k != key]
    if value is not None:
        pairs.append((key, value if isinstance(value, str) else json.dumps(value)))
    return with_props(model, pairs)


def edit_json(model: bytes, key: str, edit) -> bytes:
    value = json.loads(dict(props_of(model))[key])
    edit(value)
    return set_field(model, key, json.dumps(value))


def sig_edit(edit):
    return lambda model: edit_json(model, "nsc.signature", edit)


def init_edit(edit):
    """A change to the graph's initializers: edit(dict name -> TensorProto, the model's initializer list)."""
    def apply(model: bytes) -> bytes:
        m = onnx.ModelProto.FromString(model)
        edit({t.name: t for t in m.graph.initializer}, m.graph.initializer)
        return m.SerializeToString()
    return apply


def set_array(name, transform):
    def edit(inits, _):
        inits[name].CopyFrom(numpy_helper.from_array(transform(numpy_helper.to_array(inits[name])), name))
    return init_edit(edit)


def port(role: str, k: int, **changes):
    def edit(sig):
        sig[role][k].update(changes)
    return sig_edit(edit)


def duplicate_key(key):
    return lambda model: with_props(model, props_of(model) + [(key, dict(props_of(model))[key])])


# (case, what to do to the base model, words the message must have). Each was a traceback, a raw TypeError, a
# wrong prediction or a silently accepted file before (see the module docstring).
CASES = [
    ("lo is text", port("inputs", 0, lo="abc"), "inputs[0] 'x': lo: 'abc' is text, not a number"),
    ("lo is null", port("inputs", 0, lo=None), "lo: None is null, not a number"),
    ("lo is true", port("inputs", 0, lo=True), "lo: True is a boolean, not a number"),
    ("hi is a list", port("inputs", 1, hi=[1]), "inputs[1] 'n': hi: [1] is a list, not a number"),
    ("lo above hi", port("inputs", 0, lo=2.0, hi=1.0), "lo (2) is not below hi (1)"),
    ("lo equals hi", port("inputs", 0, lo=1.0, hi=1.0), "lo (1) is not below hi (1)"),
    ("bound NaN", lambda m: set_field(m, "nsc.signature", dict(props_of(m))["nsc.signature"].replace(
        '"lo":-1.0', '"lo":NaN')), "nsc.signature: not valid JSON (NaN is not JSON)"),
    ("bound Infinity", lambda m: set_field(m, "nsc.signature", dict(props_of(m))["nsc.signature"].replace(
        '"hi":1.0', '"hi":Infinity', 1)), "Infinity is not JSON"),
    ("bound 1e999", lambda m: set_field(m, "nsc.signature", dict(props_of(m))["nsc.signature"].replace(
        '"hi":10.0', '"hi":1e999')), "hi: inf is not a finite number"),
    ("bound beyond float32", port("inputs", 0, hi=1e39), "is too wide for the surrogate"),
    ("int range beyond int", port("inputs", 1, hi=1e12), "does not fit its type 'int'"),
    ("int range holds no integer", port("inputs", 1, lo=0.2, hi=0.8), "holds no integer"),
    ("range edited", port("inputs", 0, lo=-2.0), "is not the one the graph normalises it by"),
    ("name null", port("inputs", 0, name=None), "inputs[0].name: None is null, not a column name"),
    ("name a number", port("outputs", 0, name=7), "outputs[0].name: 7 is a number"),
    ("name with a comma", port("inputs", 0, name="x,y"), "not a column name"),
    ("name with an escape", port("inputs", 0, name="x\x1b[2J"), "not a column name"),
    ("name huge", port("inputs", 0, name="x" * 1_000_000), "1000000 characters long (at most 1024)"),
    ("two inputs, one name", port("inputs", 1, name="x", param="x", index=None, ctype="double"),
     "a second column named 'x'"),
    ("an input and an output, one name", port("outputs", 1, name="x", param="x", ctype="double"),
     "a second column named 'x' (the first is an input)"),
    ("name and param disagree", port("inputs", 0, name="n"), "the name does not match param 'x'"),
    ("primed input", port("inputs", 0, name="x'"), "the name does not match"),
    ("param unknown", port("inputs", 0, param="z", name="z"), "param: 'z' is text, not one of the function's"),
    ("index beyond the array", port("inputs", 3, index=5, name="w[5]"), "index 5 is outside 'w' (2)"),
    ("index negative", port("inputs", 3, index=-1), "index: -1 is a number, not an element index"),
    ("index text", port("inputs", 2, index="0"), "index: '0' is text"),
    ("ctype unknown", port("inputs", 0, ctype="struct s"), "ctype: 'struct s' is text, not 'double'"),
    ("ctype disagrees", port("inputs", 0, ctype="float"), "not 'double', the type of 'x'"),
    ("output with a range", port("outputs", 0, lo=0, hi=1), "an output has no range"),
    ("inputs swapped", sig_edit(lambda s: s["inputs"].reverse()), "not the column nsc writes here"),
    ("outputs swapped", sig_edit(lambda s: s["outputs"].reverse()), "outputs[0] 'out': not the column"),
    ("an input dropped", sig_edit(lambda s: s["inputs"].pop()), "no column for w[1]"),
    ("an output added", sig_edit(lambda s: s["outputs"].append(dict(s["outputs"][1], name="out[0]", index=0))),
     "outputs[2] 'out[0]': one column more than the parameters have"),
    ("no inputs", sig_edit(lambda s: s.update(inputs=[])), "inputs: empty"),
    ("inputs an object", sig_edit(lambda s: s.update(inputs={})), "inputs: {} is an object, not a list"),
    ("an input a number", sig_edit(lambda s: s["inputs"].__setitem__(0, 5)), "inputs[0]: 5 is a number, not an"),
    ("input without lo", sig_edit(lambda s: s["inputs"][0].pop("lo")), "inputs[0]: no 'lo' field"),
    ("params missing", sig_edit(lambda s: s.pop("params")), "nsc.signature: no 'params' field"),
    ("params a string", sig_edit(lambda s: s.update(params="x")), "params: 'x' is text, not a list"),
    ("param twice", sig_edit(lambda s: s["params"].append(s["params"][0])), "a second parameter named 'x'"),
    ("param shape 0", sig_edit(lambda s: s["params"][2].update(shape=0)), "shape: 0 is a number"),
    ("param shape huge", sig_edit(lambda s: s["params"][2].update(shape=10 ** 12)), "no column for w[2]"),
    ("param flag text", sig_edit(lambda s: s["params"][0].update(is_const="yes")), "is_const: 'yes' is text"),
    ("param stops reading", sig_edit(lambda s: s["params"][0].update(reads=False)), "not the column nsc writes"),
    ("param named return", sig_edit(lambda s: s["params"][0].update(name="return")), "named 'return'"),
    ("return without type", sig_edit(lambda s: s.update(return_ctype=None)), "param: 'return' is text, not one"),
    ("return type unknown", sig_edit(lambda s: s.update(return_ctype="void *")), "return_ctype: 'void *' is text"),
    ("function null", sig_edit(lambda s: s.update(function=None)), "function: None is null, not a C identifier"),
    ("function not an identifier", sig_edit(lambda s: s.update(function="f; rm -rf")), "not a C identifier"),
    ("function huge", sig_edit(lambda s: s.update(function="f" * 5000)), "5000 characters long"),
    ("state a string", sig_edit(lambda s: s.update(state="acc")), "state: 'acc' is text, not a list"),
    ("signature a list", lambda m: set_field(m, "nsc.signature", [1, 2]), "nsc.signature: [1, 2] is a list, not an"),
    ("signature null", lambda m: set_field(m, "nsc.signature", "null"), "nsc.signature: None is null"),
    ("signature not JSON", lambda m: set_field(m, "nsc.signature", "{'function': 'f'"), "not valid JSON"),
    ("signature nested deeply", lambda m: set_field(m, "nsc.signature", "[" * 100_000 + "]" * 100_000),
     "not valid JSON (nested too deeply)"),
    ("signature missing", lambda m: set_field(m, "nsc.signature", None), "nsc.signature: missing"),
    ("signature twice", duplicate_key("nsc.signature"), "nsc.signature: given twice"),
    ("counts disagree with the graph", sig_edit(lambda s: (s["inputs"].pop(), s["params"][2].update(shape=1),
                                                         s["inputs"][2].update(name="w", index=None))),
     "3 inputs and 2 outputs, but the graph has 4 and 2"),
    ("history a dict", lambda m: set_field(m, "nsc.history", {"event": "compile"}), "nsc.history: {'event'"),
    ("history of numbers", lambda m: set_field(m, "nsc.history", [1, 2]), "nsc.history[0]: 1 is a number"),
    ("history event a number", lambda m: set_field(m, "nsc.history", [{"event": 5}]), "nsc.history[0].event: 5"),
    ("history not JSON", lambda m: set_field(m, "nsc.history", "[{"), "nsc.history: not valid JSON"),
    ("history missing", lambda m: set_field(m, "nsc.history", None), "nsc.history: missing"),
    ("hidden text", lambda m: set_field(m, "nsc.hidden", "64"), "nsc.hidden: 64 is a number, not a list"),
    ("hidden a string width", lambda m: set_field(m, "nsc.hidden", [64, "64"]), "nsc.hidden[1]: '64' is text"),
    ("hidden negative", lambda m: set_field(m, "nsc.hidden", [-64, 64]), "nsc.hidden[0]: -64 is a number"),
    ("hidden disagrees with the weights", lambda m: set_field(m, "nsc.hidden", [32, 32]),
     "nsc.hidden: [32, 32], but the weights' hidden layers are [64, 64]"),
    ("extra a list", lambda m: set_field(m, "nsc.extra", [1]), "nsc.extra: [1] is a list, not an object"),
    ("extra exact text", lambda m: set_field(m, "nsc.extra", {"exact": "yes"}), "nsc.extra.exact: 'yes' is text"),
    ("extra error NaN", lambda m: set_field(m, "nsc.extra", '{"closed_form_error": NaN}'), "NaN is not JSON"),
    ("extra error negative", lambda m: set_field(m, "nsc.extra", {"closed_form_error": -1}), "-1 is negative"),
    ("stated errors text", lambda m: set_field(m, "nsc.extra", {"distilled": {"estimated_error": "abc"}}),
     "nsc.extra.distilled.estimated_error: 'abc' is text, not a list"),
    ("a ramp error negative", lambda m: set_field(m, "nsc.extra", {"structural": {"ramp_error": [-0.5]}}),
     "nsc.extra.structural.ramp_error[0]: -0.5 is negative"),
    ("a stated error text", lambda m: set_field(m, "nsc.extra", {"structural": {"estimated_error": [0.1, "x"]}}),
     "nsc.extra.structural.estimated_error[1]: 'x' is text, not a number"),
    ("a stated error negative", lambda m: set_field(m, "nsc.extra", {"distilled": {"estimated_error": [-2]}}),
     "nsc.extra.distilled.estimated_error[0]: -2 is negative"),
    ("distilled a list", lambda m: set_field(m, "nsc.extra", {"distilled": [1]}),
     "nsc.extra.distilled: [1] is a list, not an object"),
    ("distilled teacher text", lambda m: set_field(m, "nsc.extra", {"distilled": {"teacher": "oops"}}),
     "nsc.extra.distilled.teacher: 'oops' is text, not an object"),
    ("distilled teacher's trace null", lambda m: set_field(m, "nsc.extra", {"distilled": {"teacher": {"trace": None}}}),
     "nsc.extra.distilled.teacher.trace: None is null, not an object"),
    ("distilled teacher's error text", lambda m: set_field(
        m, "nsc.extra", {"distilled": {"teacher": {"structural": {"estimated_error": ["x"]}}}}),
     "nsc.extra.distilled.teacher.structural.estimated_error[0]: 'x' is text"),
    ("out_calibrated yes", lambda m: set_field(m, "nsc.out_calibrated", "yes"), "nsc.out_calibrated: 'yes'"),
    ("activation unknown", lambda m: set_field(m, "nsc.activation", "gelu"), "nsc.activation: 'gelu' is text"),
    ("format text", lambda m: set_field(m, "nsc.format", "one"), "nsc.format: 'one' is not a format version"),
    ("format zero", lambda m: set_field(m, "nsc.format", "0"), "nsc.format: '0' is not a format version"),
    ("format huge", lambda m: set_field(m, "nsc.format", "9" * 5000), "is not a format version"),
    ("compiler missing", lambda m: set_field(m, "nsc.compiler", None), "nsc.compiler: missing"),
    ("compiler with escapes", lambda m: set_field(m, "nsc.compiler", "random\x1b[31m"), "holds control characters"),
    ("source hash huge", lambda m: set_field(m, "nsc.source_sha256", "0" * 2000), "2000 characters long"),
    ("free field with a newline", lambda m: set_field(m, "nsc.note", "a\nb"), "nsc.note: 'a\\nb' holds control"),
    ("weight NaN", set_array("w1", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 3, np.nan, a)
                             .astype(np.float32)), "initializer w1 contains NaN or Inf"),
    ("scale negative", set_array("in_scale", lambda a: -a), "initializer in_scale: normalisation scales must be"),
    ("weight of another shape", set_array("w1", lambda a: a[:, :-1]), "layer 1: weight w1 (64, 63)"),
    ("weight float64", set_array("w0", lambda a: a.astype(np.float64)), "initializers must be float32"),
    ("weight missing", init_edit(lambda inits, lst: lst.remove(inits["b1"])), "initializers missing: b1"),
    ("weight unknown", init_edit(lambda inits, lst: lst.append(numpy_helper.from_array(np.zeros(3, np.float32),
                                                                                       "evil"))),
     "initializers nsc does not write: 'evil'"),
    ("weight twice", init_edit(lambda inits, lst: lst.append(inits["b0"])), "initializer 'b0' given twice"),
    ("floors without relu", init_edit(lambda inits, lst: lst.append(numpy_helper.from_array(
        np.zeros(64, np.float32), "f0"))), "initializers missing: f1"),
]

FLOOR_CASES = [
    ("floor NaN", set_array("f0", lambda a: np.full_like(a, np.nan)), "initializer f0 contains NaN or Inf"),
    ("floor of another width", set_array("f1", lambda a: a[:-1]), "initializer f1: shape (63,): floors must"),
    ("floors with silu", lambda m: set_field(m, "nsc.activation", "silu"), "floors (f0..) need the relu activation"),
    ("a floor missing", init_edit(lambda inits, lst: lst.remove(inits["f1"])), "initializers missing: f1"),
    ("a floor too many", init_edit(lambda inits, lst: lst.append(numpy_helper.from_array(
        np.zeros(64, np.float32), "f2"))), "initializers nsc does not write: 'f2'"),
]


def messages(tmp_path, model: bytes) -> tuple[str, str]:
    """(nsc's message, nsc_runtime's message), each without its 'PATH: [error: ]' prefix."""
    path = tmp_path / "tampered.onnx"
    path.write_bytes(model)
    with pytest.raises(NscError) as ours:
        onnx_io.load_surrogate(path)
    with pytest.raises(nsc_runtime.SurrogateError) as theirs:
        nsc_runtime.load(path)
    return str(ours.value).removeprefix(f"{path}: error: "), str(theirs.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize("name, tamper, words", CASES, ids=[c[0] for c in CASES])
def test_a_tampered_model_is_one_line_naming_the_field_everywhere(tmp_path, base, data_csv, name, tamper, words):
    model = tamper(base)
    ours, theirs = messages(tmp_path, model)
    assert ours == theirs  # one definition, so one message
    assert words in ours and "\n" not in ours, ours
    path = tmp_path / "tampered.onnx"
    for args in (["inspect", path], ["run", path, "--inputs", "x=0.5,n=3,w[0]=0.25,w[1]=0.75"],
                 ["finetune", path, data_csv, "-o", tmp_path / "out.onnx"]):
        result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 1, (args[0], result.output)
        assert result.output == f"{path}: error: {ours}\n", (args[0], result.output)
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.parametrize("name, tamper, words", FLOOR_CASES, ids=[c[0] for c in FLOOR_CASES])
def test_tampered_floors_are_refused_by_both(tmp_path, floored, name, tamper, words):
    ours, theirs = messages(tmp_path, tamper(floored))
    assert ours == theirs and words in ours, ours


def test_the_untampered_models_load_and_agree(tmp_path, base, floored):
    for model in (base, floored):
        path = tmp_path / "ok.onnx"
        path.write_bytes(model)
        loaded = onnx_io.load_surrogate(path)
        s = nsc_runtime.load(path)
        assert s.inputs == list(ROW) and s.outputs == ["return", "out"]
        np.testing.assert_allclose(s.predict(ROW)[0], loaded.params.predict(np.array([list(ROW.values())]))[0],
                                   rtol=1e-5, atol=1e-5)


def test_nsc_writes_no_model_the_runtime_would_refuse(tmp_path, base):
    loaded = load_bytes(base, tmp_path)
    sig = json.loads(json.dumps(loaded.signature_json))
    sig["inputs"][0]["lo"] = "abc"
    with pytest.raises(ValueError, match="invalid surrogate metadata .*lo: 'abc' is text"):
        onnx_io.surrogate_bytes(loaded.params, sig, loaded.metadata)
    sig["inputs"][0]["lo"] = -2.0  # a range the weights were not normalised by
    with pytest.raises(ValueError, match="is not the one the graph normalises it by"):
        onnx_io.surrogate_bytes(loaded.params, sig, loaded.metadata)


# ------------------------------------------------------------------------------------------------ the fuzzer

ODD_VALUES = [None, True, False, 0, -1, 7, 1.5, -0.0, 1e308, 2 ** 70, "", "x", "x[0]", "return", "double", "int",
              "a" * 5000, "\x1b[31m", "x,y", "NaN", [], {}, [None], [1, 2], {"name": "x"}]


def _nodes(value, path=()):
    """Every (path, value) of a JSON value, the value itself included."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nodes(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, path + (i,))


def _mutate_json(value, rng: random.Random):
    """One random change to a JSON value: a node replaced (by an odd value or another node), removed, duplicated or
    moved, or a field added. Returns the new value."""
    nodes = list(_nodes(value))
    path, node = rng.choice(nodes)
    if not path:
        return rng.choice(ODD_VALUES)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1]
    action = rng.randrange(5)
    if action == 0:
        parent[key] = rng.choice(ODD_VALUES)
    elif action == 1:
        parent[key] = json.loads(json.dumps(rng.choice(nodes)[1]))
    elif action == 2:
        del parent[key]
    elif action == 3 and isinstance(parent, list):
        parent.insert(rng.randrange(len(parent) + 1), json.loads(json.dumps(node)))
    elif action == 3:
        parent["extra_" + str(rng.randrange(10))] = rng.choice(ODD_VALUES)
    elif isinstance(parent, list) and len(parent) > 1:
        j = rng.randrange(len(parent))
        parent[key], parent[j] = parent[j], parent[key]
    else:
        parent[key] = str(node) if not isinstance(node, str) else node.upper()
    return value


def _mutate(model: bytes, rng: random.Random) -> bytes:
    pairs = props_of(model)
    k = rng.randrange(len(pairs) + 1)
    if rng.random() < 0.5:  # the signature, half the time: it has the most to get wrong
        k = next((i for i, (key, _) in enumerate(pairs) if key == "nsc.signature"), k)
    if k == len(pairs):  # the list of fields itself
        choice = rng.randrange(3)
        if choice == 0:
            pairs.pop(rng.randrange(len(pairs)))
        elif choice == 1:
            pairs.append(rng.choice(pairs))
        else:
            pairs.append(("nsc." + rng.choice(["signature", "history", "note", "format"]), rng.choice(
                ["", "{}", "[]", "null", "1", "x" * 3000])))
        return with_props(model, pairs)
    key, text = pairs[k]
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, (dict, list)) and rng.random() < 0.9:
        text = json.dumps(_mutate_json(value, rng))
    else:
        text = rng.choice(["", "1", "2", "true", "null", "[", "x" * 3000, "\x07", text + "x", text[:-1]])
    pairs[k] = (key, text)
    return with_props(model, pairs)


def test_fuzzed_metadata_is_refused_in_one_line_or_changes_nothing(tmp_path, base):
    """Seeded random edits of the metadata (500 files): each is refused by nsc and by nsc_runtime with the same
    one-line message, or accepted by both, with the same columns and the same predictions as the original."""
    rng = random.Random(17)
    path = tmp_path / "fuzzed.onnx"
    path.write_bytes(base)
    original = nsc_runtime.load(path)
    expected = original.predict(ROW)
    refused = accepted = 0
    for trial in range(500):
        model = _mutate(base, rng)
        for _ in range(rng.randrange(2)):
            model = _mutate(model, rng)
        path.write_bytes(model)
        ours = theirs = None
        try:
            loaded = onnx_io.load_surrogate(path)
        except NscError as e:
            ours = str(e).removeprefix(f"{path}: error: ")
        try:
            s = nsc_runtime.load(path)
        except nsc_runtime.SurrogateError as e:
            theirs = str(e).removeprefix(f"{path}: ")
        assert ours == theirs, (trial, ours, theirs)
        if ours is not None:
            assert "\n" not in ours and ours.startswith(("damaged nsc surrogate (", "ONNX model not made by nsc",
                                                         "made by a newer nsc")), (trial, ours)
            refused += 1
            continue
        accepted += 1
        assert s.inputs == original.inputs and s.outputs == original.outputs, trial
        assert [p["name"] for p in loaded.signature_json["inputs"]] == original.inputs
        np.testing.assert_array_equal(s.predict(ROW), expected)
        info = toolchain.inspect_model(path)
        toolchain.format_inspection(info)  # prints whatever it accepted
    assert refused > 300 and accepted > 20  # both kinds of outcome were exercised


def test_fuzzed_bytes_are_refused_in_one_line_or_load(tmp_path, base):
    """Random byte edits anywhere in the file (200): a one-line error from each reader, or a file they load."""
    rng = random.Random(5)
    path = tmp_path / "flipped.onnx"
    for trial in range(200):
        data = bytearray(base)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data))
        for load, error in ((onnx_io.load_surrogate, NscError), (nsc_runtime.load, nsc_runtime.SurrogateError)):
            try:
                load(path)
            except error as e:
                assert "\n" not in str(e) and str(e).startswith(str(path)), (trial, str(e))
