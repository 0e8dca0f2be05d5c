"""Round 5 selection: every remaining small-source candidate + the enu1/dingov candidates the
shipped model is least sure of (lowest top-1 probability, both sides averaged). The model only
chooses what to read; annotators never see its guesses."""
import json, random
import numpy as np
from pathlib import Path
from pipeline.corpora import topics as corpus
from pipeline.topics.model import load_model
labelled = {json.loads(l)['pair_id'] for l in open('data/topics/labels.jsonl')}
small, big = [], []
for p in corpus.candidate_pairs():
    if p.pair_id in labelled: continue
    (big if p.pair_id.split(':')[0] in ('enu1', 'dingov') else small).append(p)
model = load_model(None)
pk = model.predict_proba([p.kk for p in big]); pr = model.predict_proba([p.ru for p in big])
conf = (np.asarray(pk) + np.asarray(pr)).max(axis=1) / 2
order = np.argsort(conf)
N_BIG = 640
chosen_big = [big[i] for i in sorted(order[:N_BIG])]
print(len(small), 'small;', len(chosen_big), 'big; max conf chosen', conf[order[N_BIG-1]])
chosen = small + chosen_big
random.Random(5).shuffle(chosen)
nb = 4; size = (len(chosen) + nb - 1) // nb
parts = [chosen[i*size:(i+1)*size] for i in range(nb)]
rng = random.Random(55)
for i, part in enumerate(parts):
    nxt = parts[(i+1) % nb]
    overlap = rng.sample(nxt, 15) if i < nb - 1 else []   # last batch: no overlap into batch 0 (owner = first batch)
    items = list(part)
    for o in overlap:
        items.insert(rng.randrange(len(items)+1), o)
    print(i, corpus.write_batch(Path(f'build/topic_label/batch_r5_{i}.jsonl'), items))
