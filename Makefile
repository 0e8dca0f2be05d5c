# polclaims: `make run` and `make test` are the two set-up commands (see README.md).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JEMALLOC := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 /usr/lib/libjemalloc.so.2))
FAST_ALLOC := $(if $(JEMALLOC),LD_PRELOAD=$(JEMALLOC) MALLOC_CONF=dirty_decay_ms:-1$(comma)muzzy_decay_ms:-1$(comma)retain:true,)
comma := ,
SAMPLE := data/samples/decentralization-statement.txt
SHARED ?= ../shared/data

.PHONY: install run test bench train-kk eval-nlp clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

run: install
	$(BIN)/polclaims analyze $(SAMPLE)

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(FAST_ALLOC) $(BIN)/python -m pipeline.bench --out bench/results.json

# Rebuild the Kazakh models in models/kk from ../shared/data (about 40 min on 2 cores).
train-kk: install
	$(FAST_ALLOC) OMP_NUM_THREADS=1 $(BIN)/polclaims train kk --data $(SHARED)

# The accuracy numbers of the README and the model cards.
eval-nlp: install
	$(BIN)/python -m pipeline.report_nlp --data $(SHARED) --out models/nlp_scores.json

clean:
	rm -rf $(VENV) build
