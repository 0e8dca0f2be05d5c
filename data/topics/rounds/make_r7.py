"""Round 7 selection: a second, independent annotation of every labelled pair that still had
only one (rounds 1-4: 2,755 pairs), shuffled into 12 batches (batch_r7_0..11). Disagreements
then go to a third annotator (adj_r7_*) and the majority label is kept
(pipeline.corpora.topics adjudicate), as in round 6 (c). Annotators never see an earlier label
or a model's guess."""
import json, random
from pathlib import Path
from pipeline.corpora import topics as corpus
labels = [json.loads(l) for l in open('data/topics/labels.jsonl')]
second = {json.loads(l)['pair_id'] for l in open('data/topics/second_opinions.jsonl')}
pairs = {p.pair_id: p for p in corpus.read_pairs()}
todo = [pairs[r['pair_id']] for r in labels if r['pair_id'] not in second]
print(len(todo), 'labelled pairs with one annotation')
random.Random(7).shuffle(todo)
n = 12; size = (len(todo) + n - 1) // n
for i in range(n):
    items = todo[i * size:(i + 1) * size]
    print(f'batch_r7_{i}', corpus.write_batch(Path(f'build/topic_label/batch_r7_{i}.jsonl'), items))
