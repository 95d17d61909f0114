#!/usr/bin/python3
"""A synthetic report-generation corpus for the scoring benchmark (docs/benchmarks.md#report-scoring): N pairs of a
reference report (1-6 sentences of chest X-ray vocabulary) and a prediction that copies it with words dropped,
swapped and inserted (80 %) or is another report (20 %); 1 % of the predictions are empty. JSON Lines as LLaVA-Rad's
rrg_eval reads them.

    /usr/bin/python3 bench/make_report_corpus.py N OUT.jsonl [SEED]
"""
import json
import random
import sys

WORDS = ("lungs clear heart size normal mild moderate severe bilateral left right upper lower lobe opacity "
         "consolidation atelectasis edema effusion pneumothorax cardiomegaly stable unchanged improved worsened "
         "no evidence of acute process pleural small large new interval change since prior study tube line "
         "catheter tip projects over the svc carina stomach nodule mass fracture rib degenerative spine").split()


def sentence(rng):
    s = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 14)))
    s = s[0].upper() + s[1:]
    if rng.random() < 0.2:
        s += ", " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))
    return s + rng.choice([".", ".", ".", ";", " ."])


def report(rng):
    return " ".join(sentence(rng) for _ in range(rng.randint(1, 6)))


def mutate(rng, text):
    out = []
    for t in text.split():
        x = rng.random()
        if x < 0.15:
            continue
        if x < 0.3:
            out.append(rng.choice(WORDS))
            continue
        out.append(t)
        if x > 0.95:
            out.append(rng.choice(WORDS))
    return " ".join(out)


def main():
    n, path = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 2461)
    with open(path, "w") as f:
        for i in range(n):
            ref = report(rng)
            pred = mutate(rng, ref) if rng.random() < 0.8 else report(rng)
            if rng.random() < 0.01:
                pred = ""
            f.write(json.dumps({"id": f"s{i:05d}", "prediction": pred, "reference": ref}) + "\n")


if __name__ == "__main__":
    main()
