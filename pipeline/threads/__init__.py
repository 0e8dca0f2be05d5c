"""Promise threads: one policy commitment followed across statements and time (issue #20).

`link` groups claims (blocking by related action lemma, pair scores, average linkage), `status`
gives members their roles and a thread its status with evidence, `dates` reads datelines and
deadlines, `track` reads and writes the store, `evaluate` scores linking and dates on gold.
"""
