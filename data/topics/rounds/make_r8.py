"""Round 8 selection: Kazakh news sentences of KazNERD (configs/topics.toml
[default_corpus.sentences]) that mention the subjects of the topics the parallel corpus holds
fewest lines of (defence, foreign trade, environment, energy, agriculture; one regular
expression per subject, matched at word starts), at least 8 tokens, no duplicates, no gold text.
Each sentence goes to two annotators (batches r8_0..2 own them, r8_3..5 hold the same sentences
in another order); disagreements go to a third (adj_r8_*), and the majority label is kept.
Annotators never see which expression selected a sentence."""
import random, re
from collections import Counter
from pathlib import Path
from pipeline.corpora import topics as corpus
SUBJECTS = {
 'defense': r'әскер|қорғаныс|армия|қарулы күш|сарбаз|офицер|шекарашы|ұлттық ұлан',
 'foreign_trade': r'экспорт|импорт|кеден|сыртқы сауда|ДСҰ|ЕАЭО|Еуразиялық экономикалық|тауар айналым|шетелдік инвестор',
 'environment': r'эколог|қоршаған орта|қалдық|қоқыс|орман|ластан|климат|табиғатты қорға|су ресурс|ағаш отырғыз',
 'energy': r'энерг|электр|мұнай|газ\b|газбен|газды|газдандыр|көмір',
 'agriculture': r'ауыл шаруашылы|мал шаруашылы|егін|астық|малшы|фермер|агро|жайылым|мал басы',
}
RX = {k: re.compile(r'(?<!\w)(?:' + v + ')', re.I) for k, v in SUBJECTS.items()}
gold = corpus.gold_texts()
seen, chosen, hits = set(), [], Counter()
for p in corpus.read_sentences():
    text = p.kk or p.ru
    if len(text.split()) < 8 or text in seen:
        continue
    seen.add(text)
    matched = [k for k, rx in RX.items() if rx.search(text)]
    if matched and not corpus.overlaps_gold(p, gold):
        chosen.append(p)
        hits.update(matched)
print(len(chosen), 'sentences;', dict(hits))
def write(name, items):
    print(name, corpus.write_batch(Path(f'build/topic_label/{name}.jsonl'), items))
rng = random.Random(8)
rng.shuffle(chosen)
n = 3; size = (len(chosen) + n - 1) // n
parts = [chosen[i * size:(i + 1) * size] for i in range(n)]
for i, part in enumerate(parts):
    write(f'batch_r8_{i}', part)
for i, part in enumerate(parts):   # the second annotation: another annotator, another order
    other = list(part); rng.shuffle(other)
    write(f'batch_r8_{n + (i + 1) % n}', other)
