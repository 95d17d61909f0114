#!/usr/bin/python3
"""The Python reference of `chexgen reports score --metrics bleu1,bleu4,rougeL`: what LLaVA-Rad's
llava/eval/rrg_eval/run.py does with bootstrap_ci=True for BLEU-1, BLEU-4 and ROUGE-L, with sacrebleu's and
rouge-score's own code from the caller's environment (neither is in Debian: put them on PYTHONPATH). Prints one JSON
object of the values, for the benchmark to compare with chexgen's (docs/benchmarks.md#report-scoring).

    PYTHONPATH=... /usr/bin/python3 bench/rrg_reference.py REPORTS.jsonl
"""
import json
import random
import sys

import numpy as np
from sacrebleu.metrics import BLEU

try:
    from rouge_score import rouge_scorer, scoring  # the published package
except ImportError:
    from rouge import rouge_scorer, scoring  # google-research's rouge/ folder

random.seed(3)
np.random.seed(3)


def main():
    with open(sys.argv[1]) as f:
        rows = [json.loads(line) for line in f]
    preds = [r["prediction"] for r in rows]
    refs = [r["reference"] for r in rows]
    out = {}
    for order, name in [(1, "bleu_1"), (4, "bleu_4")]:
        ret = BLEU(max_ngram_order=order).corpus_score(hypotheses=preds, references=[refs], n_bootstrap=500)
        out[name] = [ret.score, ret._mean - ret._ci, ret._mean + ret._ci]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    agg = scoring.BootstrapAggregator(confidence_interval=0.95, n_samples=500)
    for ref, pred in zip(refs, preds):
        agg.add_scores(scorer.score(ref, pred))
    a = agg.aggregate()["rougeL"]
    out["rouge_l"] = [a.mid.fmeasure, a.low.fmeasure, a.high.fmeasure]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
