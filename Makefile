# polclaims: `make run` and `make test` are the two set-up commands (see README.md).
PY ?= python3
comma := ,
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JEMALLOC := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 /usr/lib/libjemalloc.so.2))
SAMPLE := data/samples/decentralization-statement.txt
SHARED ?= ../shared/data

.PHONY: install run test bench bench-memory reliability train-kk train-ru-adapter train-topics train-claims stats-claims eval-nlp eval-claims eval-topics clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev,ray]"
	touch $(STAMP)

run: install
	@mkdir -p out && rm -f out/sample.db
	$(BIN)/polclaims process $(SAMPLE) --out out/sample-claims.jsonl --db out/sample.db
	$(BIN)/polclaims query --db out/sample.db --format table --columns lang,type,polarity,tense,predicate,predicate_lemma,actor,target,quantities,topic
	@echo "Kazakh claims next to their Russian twins:"
	$(BIN)/polclaims query --db out/sample.db --aligned --format table --columns kk_predicate,ru_predicate,kk_type,ru_type,kk_quantities

test: install
	$(BIN)/python -m pytest -q

# Speed with the default allocator, as users run it (the Kazakh annotate row also compares jemalloc).
bench: install
	$(BIN)/python -m pipeline.bench --out bench/results.json

# Flat memory: `process` (2 workers) on 10,000 and on 100,000 one-sentence statements sampled
# from ../shared/data/parallel_kk_ru (about 30 minutes here); peaks go into bench/results.json.
# The default allocator on purpose: jemalloc with decay off (dirty_decay_ms:-1, good for training)
# never hands pages back, and over 100,000 statements a worker grew from 2 GB to 9 GB with it.
bench-memory: install
	$(BIN)/python -m pipeline.bench --only memory --out bench/results.json

# What `process` promises under hostile input, kills, two writers, damaged files and a full disk
# (pipeline/reliability.py: 10,000 Hypothesis-fuzzed records, 20 SIGKILLs; about 40 minutes on 2
# cores); figures in bench/reliability.json and the README table. `make test` runs them small.
reliability: install
	$(BIN)/python -m pipeline.reliability --out bench/reliability.json

# Rebuild the Kazakh models in models/kk from ../shared/data (about 3 hours on 2 cores).
# jemalloc with a 2 s decay: `retain:true` without decay grew the lemmatizer's training to 23 GB.
TRAIN_ALLOC := $(if $(JEMALLOC),LD_PRELOAD=$(JEMALLOC) MALLOC_CONF=dirty_decay_ms:2000$(comma)muzzy_decay_ms:2000,)
train-kk: install
	$(TRAIN_ALLOC) OMP_NUM_THREADS=1 $(BIN)/polclaims train kk --data $(SHARED)

# The default topic model (models/topics): join data/topics/labels.jsonl with the parallel corpus
# texts, cross-validate, fit, score on the dev gold topics (about 2-3 minutes on 2 cores).
TOPICS_NOTE := Training data: data/topics/labels.jsonl (the project's labels, see data/topics/README.md) joined with the texts of ../shared/data/parallel_kk_ru (apertium/apertium-kaz-rus, GPL-3.0) and of KazNERD sentences (IS2AI/KazNERD, CC BY 4.0; Kazakh only, round 8) by python -m pipeline.topics.corpus build; dev and reference-statement gold texts are excluded. Rebuild everything with make train-topics.
train-topics: install
	$(BIN)/python -m pipeline.topics.corpus build build/topics/corpus.jsonl
	$(BIN)/polclaims train topics build/topics/corpus.jsonl --text-col text --label-col label \
	  --group-col pair_id --lang-col lang --by-col corpus --by-col round --out models/topics --eval-gold $(SHARED)/gold/dev.gold.jsonl \
	  --note "$(TOPICS_NOTE)"

# The Russian UD adapter (models/ru_adapter): trained on the UD Russian dev files, scored on the tests.
train-ru-adapter: install
	$(BIN)/polclaims train ru-adapter --data $(SHARED) --out models/ru_adapter

# The learned claim extractor (models/claims) from the claims corpus data/claims (texts from
# ../shared/data): leave-one-source-out cross-validation against the rules, then the final fit
# (about 10 minutes on 2 cores the first time, parses cached in build/claims_cache), then the
# final checks on the dev gold and the reference statement, added to the card.
train-claims: install
	$(BIN)/polclaims train claims --out models/claims
	$(BIN)/python -m pipeline.claims.training checks models/claims $(SHARED)/gold/dev.gold.jsonl $(SHARED)/gold/seed.gold.jsonl

# The claims corpus's counts and annotator agreement (data/claims/stats.json).
stats-claims: install
	$(BIN)/python -m pipeline.claims.corpus stats --out data/claims/stats.json

eval-topics: install
	$(BIN)/polclaims evaluate topics $(SHARED)/gold/dev.gold.jsonl
	$(BIN)/polclaims evaluate topics $(SHARED)/gold/seed.gold.jsonl

# The accuracy numbers of the README and the model cards.
eval-nlp: install
	$(BIN)/python -m pipeline.report_nlp --data $(SHARED) --out models/nlp_scores.json

# The claim-extraction scores of the README (dev gold and the reference statement).
eval-claims: install
	$(BIN)/polclaims evaluate claims $(SHARED)/gold/dev.gold.jsonl --out build/claims_scores_dev.json
	$(BIN)/polclaims evaluate claims $(SHARED)/gold/seed.gold.jsonl --out build/claims_scores_seed.json

clean:
	rm -rf $(VENV) build out
