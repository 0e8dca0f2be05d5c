# polclaims: `make run` and `make test` are the two set-up commands (see README.md).
PY ?= python3
comma := ,
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JEMALLOC := $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 /usr/lib/libjemalloc.so.2))
SAMPLE := data/samples/decentralization-statement.txt
SHARED ?= ../shared/data

.PHONY: install run serve browser test bench bench-serve bench-memory reliability train-kk train-ru-adapter train-ru-adapter-syntagrus train-topics train-claims eval-roles stats-claims eval-nlp eval-claims eval-topics eval-threads train-threads readme-threads clean

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

# The web app over the store that `make run` builds: open http://127.0.0.1:8001/ (SERVE_ARGS="--port 9000 --allow-sql").
serve: install
	@test -f out/sample.db || $(MAKE) run
	$(BIN)/polclaims serve --db out/sample.db $(SERVE_ARGS)

# Headless Chromium for the browser test of `polclaims serve` (tests/test_web.py): Debian's
# chromium + chromium-driver, installed when missing and we are root (as in CI); otherwise the
# test skips and says why.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver) \
	  || echo "note: could not install chromium/chromium-driver; the browser test will be skipped"; \
	else echo "note: chromium/chromium-driver are not installed and this is not root; the browser test will be skipped"; fi

test: install browser
	$(BIN)/python -m pytest -q

# Speed with the default allocator, as users run it (the Kazakh annotate row also compares jemalloc).
bench: install
	$(BIN)/python -m pipeline.benchmarks.run --out bench/results.json

# Flat memory: `process` (2 workers) on 10,000 and on 100,000 one-sentence statements sampled
# from ../shared/data/parallel_kk_ru (about 32 minutes on a quiet 2-core VM: ~58 statements/s with
# 2 workers on 2026-12-02; several times longer when other jobs share the cores); peaks go into bench/results.json, each size as soon as it is measured. The sizes can
# be run in separate sessions (POLCLAIMS_BENCH_MEMORY_SIZES=100000 make bench-memory keeps a 10,000
# figure measured before; each size records its date and commit).
# The default allocator on purpose: jemalloc with decay off (dirty_decay_ms:-1, good for training)
# never hands pages back, and over 100,000 statements a worker grew from 2 GB to 9 GB with it.
# `polclaims serve` on a generated 1,000,000-claim store (bulk SQL, about 2 minutes the first
# time, kept in build/bench): page times into bench/results.json (also part of `make bench`).
bench-serve: install
	$(BIN)/python -m pipeline.benchmarks.run --only serve --out bench/results.json

bench-memory: install
	$(BIN)/python -m pipeline.benchmarks.run --only memory --out bench/results.json

# What `process` promises under hostile input, kills, two writers, damaged files and a full disk
# (pipeline/benchmarks/reliability.py: 10,000 Hypothesis-fuzzed records, 20 SIGKILLs; about 40 minutes on 2
# cores); figures in bench/reliability.json and the README table. `make test` runs them small.
reliability: install
	$(BIN)/python -m pipeline.benchmarks.reliability --out bench/reliability.json

# Rebuild the Kazakh models in models/kk from ../shared/data (about 3 hours on 2 cores).
# jemalloc with a 2 s decay: `retain:true` without decay grew the lemmatizer's training to 23 GB.
TRAIN_ALLOC := $(if $(JEMALLOC),LD_PRELOAD=$(JEMALLOC) MALLOC_CONF=dirty_decay_ms:2000$(comma)muzzy_decay_ms:2000,)
train-kk: install
	$(TRAIN_ALLOC) OMP_NUM_THREADS=1 $(BIN)/polclaims train kk --data $(SHARED)

# The default topic model (models/topics): the Kazakh -> Russian word table its Kazakh word
# vectors come from (models/kk_ru_lexicon, from the parallel corpus), pool data/topics and the claims corpus's topics with
# their texts (one row per distinct text, codebook re-labels applied), cross-validate leaving one
# source out (the headline) and with random folds, fit, score on the dev gold topics.
TOPICS_NOTE := Training data: data/topics/labels.jsonl and the topics of data/claims/labels.jsonl (the project's labels, see data/topics/README.md and data/claims/README.md; one row per distinct text, label = majority of every annotator of both corpora, codebook-boundary re-labels of data/topics/boundary_relabels.jsonl applied) joined by python -m pipeline.corpora.topics_pooled with the texts of ../shared/data: parallel_kk_ru (apertium/apertium-kaz-rus, GPL-3.0), KazNERD (IS2AI/KazNERD, CC BY 4.0), UD Kazakh KTB, UD Russian GSD and Taiga, GramEval 2020 Lenta, social and JZ texts (CC BY-SA 4.0); dev and reference-statement gold texts are excluded. Rebuild everything with make train-topics.
train-topics: install
	$(BIN)/python -m pipeline.corpora.kk_ru_lexicon models/kk_ru_lexicon/lexicon.tsv
	$(BIN)/python -m pipeline.corpora.topics_pooled build/topics/corpus.jsonl
	$(BIN)/polclaims train topics build/topics/corpus.jsonl --text-col text --label-col label \
	  --group-col pair_id --source-col source --lang-col lang --by-col corpus --by-col labels_from \
	  --out models/topics --eval-gold $(SHARED)/gold/dev.gold.jsonl --note "$(TOPICS_NOTE)"

# The Russian UD adapters: models/ru_adapter_syntagrus (the default: SynTagRus/GramEval conventions,
# trained on the GramEval training files) and models/ru_adapter (UD GSD/Taiga conventions, trained on
# their dev files; an option: `[adapter] model` in configs/nlp_ru.toml). Scored on files never trained on.
train-ru-adapter: install
	$(BIN)/polclaims train ru-adapter --data $(SHARED) --out models/ru_adapter

train-ru-adapter-syntagrus: install
	$(BIN)/polclaims train ru-adapter --data $(SHARED) --config train_ru_adapter_syntagrus --out models/ru_adapter_syntagrus

# The learned claim extractor (models/claims) from the claims corpus data/claims (texts from
# ../shared/data): leave-one-source-out cross-validation against the rules, then the final fit
# (about 32 minutes on 2 cores with the context net; parses cached in build/claims_cache;
# `polclaims train claims --no-cv` fits without the cross-validation in about 4 minutes), then the
# final checks on the dev gold and the reference statement, added to the card.
train-claims: install
	$(BIN)/polclaims train claims --out models/claims
	$(BIN)/python -m pipeline.training.claims checks models/claims $(SHARED)/gold/dev.gold.jsonl $(SHARED)/gold/seed.gold.jsonl
	$(BIN)/python -m pipeline.training.claims readme models/claims README.md

# The claims corpus's counts and annotator agreement (data/claims/stats.json).
stats-claims: install
	$(BIN)/python -m pipeline.corpora.claims stats --out data/claims/stats.json

eval-topics: install
	$(BIN)/polclaims evaluate topics $(SHARED)/gold/dev.gold.jsonl
	$(BIN)/polclaims evaluate topics $(SHARED)/gold/seed.gold.jsonl

# The accuracy numbers of the README and the model cards (Russian: with the default SynTagRus/GramEval
# adapter, and with the GSD/Taiga adapter as "<file>@gsd-taiga").
eval-nlp: install
	$(BIN)/python -m pipeline.evaluation.report_nlp --data $(SHARED) --out models/nlp_scores.json --readme README.md \
	  --ru-adapter gsd-taiga=models/ru_adapter/adapter.npz

# The claim-extraction scores of the README (dev gold and the reference statement).
# Actor and target alone, leave-one-source-out on the claims corpus with oracle detection (learned
# chooser beside the rules' fields; parses from build/claims_cache, ~1 min): issue #13.
eval-roles: install
	$(BIN)/python -m pipeline.training.claims_roles --errors 4 --json build/claims_roles/result.json

eval-claims: install
	$(BIN)/polclaims evaluate claims $(SHARED)/gold/dev.gold.jsonl --out build/claims_scores_dev.json
	$(BIN)/polclaims evaluate claims $(SHARED)/gold/seed.gold.jsonl --out build/claims_scores_seed.json
	$(BIN)/python -m pipeline.evaluation.report_claims build/claims_scores_dev.json build/claims_scores_seed.json \
	  --save models/claims/final_fields.json --readme README.md

# Promise threads: pairwise linking and dateline scores on data/threads (-> data/threads/scores.json).
eval-threads: install
	$(BIN)/polclaims evaluate threads --out data/threads/scores.json

# The promise-thread pair classifier (models/threads: linker.pkl and its card) from the gold pairs of
# data/threads, with the held-out scores of `polclaims evaluate threads` (about 2 minutes on 2 cores).
train-threads: install
	$(BIN)/polclaims train threads --out models/threads

# The README's example threads: the gold claims in a store, `track`, the bilingual threads printed
# by `query --thread` and `threads` (written between the threads-example markers of README.md).
readme-threads: install
	$(BIN)/python -m pipeline.cli.readme_threads --db build/gold_claims.db --readme README.md

clean:
	rm -rf $(VENV) build out
