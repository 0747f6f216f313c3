# nsc: the neural surrogate compiler. `make demo` sets everything up and runs the main job on an example;
# `make test` runs the tests. See README.md.
PYTHON ?= python3
NSC ?= nsc
DEMO ?= examples/blackscholes.c
DEMO_OUT := out/demo
DEMO_INPUTS ?= spot=100,strike=95,rate=0.05,volatility=0.2,time=1
CORPUS ?= corpus
CONFIG ?= nsc/training/configs/compiler.json

.PHONY: install demo test floors examples bench results validation corpus compiler clean

TORCH ?= 2.13.0

# torch==$(TORCH) first: pip takes the CPU build from this machine's local wheel directory; pyproject's range
# then installs nothing more (an unpinned torch would pull a multi-GB CUDA build). Skipped (~0.2 s instead of
# ~17 s) while tools/installed.py finds this checkout's nsc installed with every requirement met and neither
# pyproject.toml changed since; `make install FORCE=1` installs anyway.
install:
	@if [ -z "$(FORCE)" ] && $(PYTHON) tools/installed.py $(TORCH); then \
		echo "nsc: installed from this checkout, requirements met"; \
	else \
		set -x; $(PYTHON) -m pip install -q torch==$(TORCH) && $(PYTHON) -m pip install -q -e runtime -e '.[test]'; \
	fi

demo: install
	@mkdir -p $(DEMO_OUT)
	$(NSC) compile $(DEMO) -o $(DEMO_OUT)/demo.onnx
	$(NSC) run $(DEMO_OUT)/demo.onnx --inputs "$(DEMO_INPUTS)"
	$(NSC) sample $(DEMO) -n 1024 --seed 1 -o $(DEMO_OUT)/train.csv
	$(NSC) finetune $(DEMO_OUT)/demo.onnx $(DEMO_OUT)/train.csv -o $(DEMO_OUT)/demo.tuned.onnx
	$(NSC) inspect $(DEMO_OUT)/demo.tuned.onnx
	$(NSC) check $(DEMO_OUT)/demo.onnx $(DEMO) -n 2000 -o $(DEMO_OUT)/demo.checked.onnx
	$(NSC) check $(DEMO_OUT)/demo.tuned.onnx $(DEMO) -n 2000

test: install
	$(PYTHON) -m pytest tests

# The whole suite with every dependency at the floor the pyproject.toml files claim (tools/floors.py), in a
# fresh virtual environment of its own (~1 min to install, then the suite).
FLOORS_VENV ?= out/floors-venv
floors:
	rm -rf $(FLOORS_VENV) && $(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install -q torch==$(TORCH) packaging
	$(FLOORS_VENV)/bin/python -m pip install -q $$($(FLOORS_VENV)/bin/python tools/floors.py $(TORCH))
	$(FLOORS_VENV)/bin/python -m pip install -q --no-deps -e runtime -e .
	$(FLOORS_VENV)/bin/python -m pip list --format=freeze
	$(FLOORS_VENV)/bin/python -m pytest tests

examples:
	$(MAKE) -C examples NSC=$(NSC)

bench:
	$(PYTHON) bench/bench_structural.py
	$(PYTHON) bench/bench_sample.py
	$(PYTHON) bench/bench_compile.py
	$(PYTHON) bench/bench_run.py
	$(PYTHON) bench/bench_emit_c.py
	$(PYTHON) bench/bench_runtime.py
	$(PYTHON) bench/bench_finetune_large.py

# The evaluation of NOTES.md section 5 on examples/, bench/validation/ and 24 held-out corpus programs, with the
# ablation of the initialisations -> bench/RESULTS.md (~21 min on 2 cores; the held-out part needs the corpus:
# `make corpus`; an interrupted run resumes from out/eval/per_program/).
results:
	$(PYTHON) bench/bench_eval.py --corpus $(CORPUS)

# Compiled against random init on the validation kernels that compiler choices are made on (bench/VALIDATION.md).
validation:
	@mkdir -p out
	$(NSC) eval bench/validation/*.c --inits random,compiled -o out/validation.json

# Rebuild the trained compiler end to end: corpus, training, export into nsc/compiler/weights/.
corpus:
	$(PYTHON) -m nsc.training.corpus_run --out $(CORPUS) --programs 60000 --samples 256 --workers 2 \
		--rewrites 1 --no-verify-rewrites

compiler: corpus
	$(PYTHON) -m nsc.training.train --config $(CONFIG) --restart
	$(PYTHON) -m nsc.training.export --config $(CONFIG) --out nsc/compiler/weights

clean:
	rm -rf out examples/build .pytest_cache
