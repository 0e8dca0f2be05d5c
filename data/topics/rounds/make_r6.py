"""Round 6 selection.
(a) every not-yet-labelled candidate pair whose text mentions the smallest topics' subjects
    (defence, trade, environment, energy, agriculture; a regular expression over both sides),
    each pair annotated twice (batches r6_0/r6_1 own them, r6_2/r6_3 hold the same pairs in
    another order): 264 pairs.
(b) a second, independent annotation of every round-5 pair that had only one (batches r6_4..6).
Disagreements of (a) and (b) then go to a third annotator (adj_r6_*), and the majority label is
kept (pipeline.corpora.topics adjudicate). Annotators never see the selecting expression's topic,
a model's guess or another annotator's label."""
import json, random, re
from pathlib import Path
from pipeline.corpora import topics as corpus
RX = re.compile('|'.join([
 r'әскер|қорғаныс|армия|қарулы күш|воинск|военн|оборон|армии|вооруж|мобилизац|призыв',
 r'экспорт|импорт|кеден|таможен|сыртқы сауда|внешн\w* торг|ВТО|ДСҰ|Евразийск\w* экономическ|ЕАЭС|ЕАЭО',
 r'эколог|қоршаған орта|окружающ\w* сред|выброс|қалдық|отход|орман|лесн|су ресурс|водн\w* ресурс|загрязн|ластан|климат',
 r'энерг|электр|мұнай|нефт|газ\b|газды|газа|көмір|уголь',
 r'ауыл шаруашылы|сельск\w* хоз|агро|мал шаруашылы|животновод|егін|зерн|астық']), re.I)
labels = [json.loads(l) for l in open('data/topics/labels.jsonl')]
second = {json.loads(l)['pair_id'] for l in open('data/topics/second_opinions.jsonl')}
labelled = {r['pair_id'] for r in labels}
pairs = {p.pair_id: p for p in corpus.read_pairs()}
rare = [p for p in corpus.candidate_pairs() if p.pair_id not in labelled and RX.search(p.kk + ' ' + p.ru)]
r5 = [pairs[r['pair_id']] for r in labels
      if corpus.annotation_round(r['annotator']) == '5' and r['pair_id'] not in second]
print(len(rare), 'rare-topic candidates;', len(r5), 'round-5 pairs with one annotation')
def write(name, items):
    print(name, corpus.write_batch(Path(f'build/topic_label/{name}.jsonl'), items))
rng = random.Random(6)
rng.shuffle(rare)
half = (len(rare) + 1) // 2
a, b = rare[:half], rare[half:]
write('batch_r6_0', a); write('batch_r6_1', b)
a2, b2 = list(a), list(b); rng.shuffle(a2); rng.shuffle(b2)
write('batch_r6_2', b2); write('batch_r6_3', a2)   # the other annotator pair sees each half
rng.shuffle(r5)
n = 3; size = (len(r5) + n - 1) // n
for i in range(n):
    write(f'batch_r6_{4 + i}', r5[i * size:(i + 1) * size])
