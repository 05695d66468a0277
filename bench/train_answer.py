"""Learn the answer-span weights (retrieval/data/answer_weights.json) and report held-out folds.

Data: the dev gold sets in ../shared/eval/ext (CMRC 2018 trial, CC BY-SA 4.0; DRCD dev,
CC BY-SA 3.0), each asked of its own corpus with the default settings. For each question the
top hits' candidate spans get their features (retrieval.answer.inputs) and a label: the
character-overlap F1 with the nearest occurrence of a gold answer in that passage.

Span model: a linear scorer, softmax over one question's candidates (listwise), the target
spread over the candidates with the best label. Confidence model: logistic regression on
the chosen span's probability, margin and sentence coverage, labelled by F1 >= 0.5; trained
on the span model's held-out predictions. Folds are split by article, so no article's
questions are on both sides. Run: python bench/train_answer.py [--write]
"""
from __future__ import annotations

import argparse
import re
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.evaluation import RIGHT, exact_match, gold_answers, read_gold, span_f1  # noqa: E402
from retrieval import answer as ans  # noqa: E402
from retrieval import answer_features as af  # noqa: E402
from retrieval import answer_sentence, answer_trees  # noqa: E402
from retrieval.errors import QuestionError  # noqa: E402
from retrieval.qtype import KINDS  # noqa: E402
from retrieval.search import strip_markup  # noqa: E402
from retrieval.store import open_searcher  # noqa: E402

SETS = ("cmrc2018-trial", "drcd-dev")
FOLDS = 5
TREES = True  # re-rank by gradient-boosted trees (answer_trees)
PUNCT = re.compile(r"[\W_]")


def retrieved(searcher, gold: Path):
    """Per answered gold question, what the answer step is given: the normalised question and
    context, the search terms with their idf, the top hits' texts and scores (JSON-able, so a
    run can keep them: ``--cache``)."""
    for _, item in read_gold(gold):
        if isinstance(item, str) or not item.get("gold"):
            continue
        try:
            result = searcher.search(item["question"], 10, item.get("context") or [])
        except QuestionError:
            continue
        if not result.answered:
            continue
        cleaned = strip_markup(result.question)  # as Searcher.search gives them to find_answer
        most = searcher.settings.max_question
        earlier = [strip_markup(c[:most]) for c in item.get("context") or []]
        context = [searcher.analyzer.normalise(c) for c in earlier[-2:]]
        own, merged = searcher.query(cleaned, earlier)
        yield {"question": searcher.analyzer.normalise(cleaned), "context": context, "merged": merged, "own": own,
               "idf": {t: float(searcher.index.idf(t)) for t in merged},
               "hits": [(h.passage.text, float(h.score)) for h in result.hits[:ans.HITS]],
               "coverage": result.coverage, "answers": gold_answers(item),
               "article": result.hits[0].passage.title if result.hits else ""}


class Hit(NamedTuple):
    passage: SimpleNamespace
    score: float


def questions(analyzer, records: list[dict]):
    """Per retrieved question: its inputs, labels, gold answers, coverage and article."""
    for r in records:
        hits = [Hit(SimpleNamespace(text=t), s) for t, s in r["hits"]]
        found = ans.inputs(analyzer, lambda t, idf=r["idf"]: idf.get(t, 0.0), r["question"], r["context"],
                           r["merged"], r["own"], hits)
        labels = overlap_labels(found, r["answers"])
        held = [any(a and a in found.texts[s.rank - 1][s.start:s.end] for a in r["answers"]) for s in found.sentences]
        yield {"found": found, "labels": labels, "held": np.array(held, dtype=bool), "answers": r["answers"], "coverage": r["coverage"],
               "article": r["article"], "train": np.arange(len(labels))}


def overlap_labels(found: ans.Inputs, answers: list[str]) -> np.ndarray:
    """F1 of each candidate with the best gold occurrence in its passage, counted in characters
    other than punctuation and spaces (which the metric drops: a gold 霸权。 is matched by 霸权)."""
    labels = np.zeros(len(found.spans), dtype=np.float32)
    for n, sentence in enumerate(found.sentences):
        text = found.texts[sentence.rank - 1]
        counts = np.concatenate([[0], np.cumsum([not PUNCT.match(c) for c in text])])
        rows = np.flatnonzero(found.spans[:, 0] == n)
        s, e = found.spans[rows, 1], found.spans[rows, 2]
        size = counts[e] - counts[s]
        for a in answers:
            at = text.find(a) if a else -1
            while at >= 0:
                a_size = counts[at + len(a)] - counts[at]
                ov = np.maximum(0, counts[np.minimum(e, at + len(a))] - counts[np.maximum(s, at)])
                ov = np.where(np.minimum(e, at + len(a)) > np.maximum(s, at), ov, 0)
                f1 = np.where(ov > 0, 2 * ov / np.maximum(size + a_size, 1), 0)
                labels[rows] = np.maximum(labels[rows], f1)
                at = text.find(a, at + 1)
    return labels


def train_span(data: list[dict], l2: float = 1e-3, steps: int = 120, rate: float = 0.08) -> np.ndarray:
    """Listwise softmax regression by Adam over the questions whose candidates hold a labelled
    one: a weight row per question kind, the base columns shared by all kinds."""
    usable = sorted((d for d in data if d["labels"].max() > 0), key=lambda d: d["found"].kind)  # kinds contiguous
    xs, ts, seg = [], [], []
    for q, d in enumerate(usable):
        lab = d["labels"][d["train"]]
        target = (lab >= lab.max() - 1e-6).astype(np.float32)
        xs.append(d["found"].x[d["train"]])
        ts.append(target / target.sum())
        seg.append(np.full(len(lab), q))
    x, t, seg = np.concatenate(xs).astype(np.float32), np.concatenate(ts), np.concatenate(seg)
    kind = np.repeat([d["found"].kind for d in usable], [len(d["train"]) for d in usable])
    base = len(af.BASE_FEATURES)
    xb = np.ascontiguousarray(x[:, :base])
    blocks = [(k, slice(*np.flatnonzero(kind == k)[[0, -1]] + [0, 1])) for k in range(len(KINDS)) if (kind == k).any()]
    xk = {k: np.ascontiguousarray(x[rows, base:]) for k, rows in blocks}
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    w = np.zeros((len(KINDS), x.shape[1]))
    m, v = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, steps + 1):
        s = xb @ w[0, :base].astype(np.float32)
        for k, rows in blocks:
            s[rows] += xk[k] @ w[k, base:].astype(np.float32)
        s -= np.maximum.reduceat(s, starts)[seg]
        e = np.exp(s)
        r = e / np.add.reduceat(e, starts)[seg] - t
        grad = np.zeros_like(w)
        grad[:, :base] = xb.T @ r  # the base columns are shared by every kind
        for k, rows in blocks:
            grad[k, base:] = xk[k].T @ r[rows]
        grad = grad / len(starts) + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        w -= rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return w


def train_sentence(data: list[dict], l2: float = 1e-3, steps: int = 300, rate: float = 0.05) -> np.ndarray:
    """Listwise softmax over each question's sentences (answer_sentence), the target spread
    over those holding a gold answer; questions whose sentences hold none are left out."""
    usable = [d for d in data if d["held"].any() and len(d["found"].spans)]
    feats = [answer_sentence.rows(d["found"].spans, d["found"].x, len(d["held"])) for d in usable]
    targets = [d["held"] / d["held"].sum() for d in usable]
    x, t = np.concatenate(feats).astype(np.float64), np.concatenate(targets)
    seg = np.repeat(np.arange(len(usable)), [len(f) for f in feats])
    starts = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
    w = np.zeros(x.shape[1])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, steps + 1):
        s = x @ w
        s -= np.maximum.reduceat(s, starts)[seg]
        e = np.exp(s)
        grad = x.T @ (e / np.add.reduceat(e, starts)[seg] - t) / len(starts) + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        w -= rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return w


def with_sentences(data: list[dict], train: list[dict]) -> np.ndarray:
    """The sentence model learned on ``train``, its scores written into every question's candidates."""
    ws = train_sentence(train)
    for d in data:
        answer_sentence.fill(d["found"].spans, d["found"].x, len(d["held"]), ws.astype(np.float32))
    return ws


def weight_names(w: np.ndarray) -> dict[str, float]:
    out = dict(zip(af.BASE_FEATURES, w[0, :len(af.BASE_FEATURES)]))
    for k, kind in enumerate(KINDS):
        out.update(zip(af.names(kind)[len(af.BASE_FEATURES):], w[k, len(af.BASE_FEATURES):]))
    return {name: round(float(v), 5) for name, v in out.items() if abs(v) > 1e-6}


def span_model(w: np.ndarray, trees=None) -> ans.Model:
    """A model of the span weights ``w`` (and trees), its sentence scores already in the rows."""
    return ans.Model(w, np.zeros(len(ans.CONFIDENCE) + 1), 0.5, np.zeros(len(answer_sentence.FEATURES)), trees)


def chosen(d: dict, m: ans.Model) -> ans.AnswerSpan | None:
    return ans.decide(d["found"], d["coverage"], m)


def confidence_rows(data: list[dict], m: ans.Model):
    """The confidence model's inputs and labels (F1 >= RIGHT) for each question."""
    rows, labels, kept = [], [], []
    for i, d in enumerate(data):
        found = d["found"]
        if not len(found.spans):
            continue
        kept.append(i)
        best, prob, margin = ans.pick(found, m)
        n, start, end = (int(v) for v in found.spans[best])
        rows.append(ans.confidence_row(found, best, prob, margin, d["coverage"]))
        labels.append(span_f1(found.texts[found.sentences[n].rank - 1][start:end], d["answers"]) >= RIGHT)
    return np.array(rows), np.array(labels, dtype=np.float64), kept


def train_trees(data: list[dict], w: np.ndarray, trees: int = 150) -> dict:
    """LightGBM lambdarank over each question's ``answer_trees.TOP`` best candidates by the span
    model ``w``, graded by their overlap with a gold answer (0–4)."""
    import lightgbm  # training only (the "train" extra)

    xs, ys, groups = [], [], []
    for d in data:
        found = d["found"]
        if not len(found.spans) or d["labels"].max() <= 0:
            continue
        linear = ans.scored(found, w)
        top = np.argsort(-linear, kind="stable")[:answer_trees.TOP]
        top = top[linear[top] > -1e3]
        xs.append(answer_trees.rows(found.x, linear, top, found.kind))
        ys.append(np.round(4 * d["labels"][top]).astype(int))
        groups.append(len(top))
    params = {"objective": "lambdarank", "num_leaves": 15, "max_depth": 5, "learning_rate": 0.08,
              "min_data_in_leaf": 30, "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8,
              "lambdarank_truncation_level": 10, "eval_at": [1], "num_threads": 1, "verbose": -1, "seed": 0}
    dataset = lightgbm.Dataset(np.concatenate(xs), np.concatenate(ys), group=groups)
    booster = lightgbm.train(params, dataset, num_boost_round=trees)
    return answer_trees.flatten(booster.dump_model())


def train_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 2000, rate: float = 0.5) -> np.ndarray:
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        w -= rate * (x.T @ (p - y) / len(y) + l2 * w)
    return w


def folds(data: list[dict]) -> np.ndarray:
    """A fold number for each question, by article."""
    articles = sorted({d["article"] for d in data})
    rng = np.random.default_rng(1)
    fold_of = dict(zip(articles, rng.integers(0, FOLDS, len(articles))))
    return np.array([fold_of[d["article"]] for d in data])


def score(data: list[dict], picks: list) -> dict:
    n = len(data)
    f1 = [span_f1(p.text, d["answers"]) if p else 0.0 for d, p in zip(data, picks)]
    em = [exact_match(p.text, d["answers"]) if p else False for d, p in zip(data, picks)]
    sent = [bool(p) and any(a and a in d["found"].texts[p.rank - 1][p.sentence[0]:p.sentence[1]] for a in d["answers"])
            for d, p in zip(data, picks)]
    conf = [(p is not None and p.confident, f) for p, f in zip(picks, f1)]
    confident = [f for c, f in conf if c]
    return {"questions": n, "em": round(100 * np.mean(em), 1), "f1": round(100 * np.mean(f1), 1),
            "sentence": round(float(np.mean(sent)), 3),
            "confident_right": round(float(np.mean([f >= RIGHT for f in confident])), 3) if confident else None,
            "confident_share": round(len(confident) / n, 3)}


def threshold_for(prob: np.ndarray, right: np.ndarray, precision: float) -> float:
    """The lowest threshold whose confident answers are right at ``precision`` or better."""
    order = np.argsort(-prob)
    hits = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(hits >= precision)
    ok = ok[ok >= 20] if len(ok[ok >= 20]) else ok
    return float(prob[order][ok.max()]) if len(ok) else 1.0


def load(cache: Path | None = None) -> dict[str, list[dict]]:
    """Each set's questions with their inputs; the retrieval step read from ``cache`` when it
    holds it (written there otherwise), so a run over new features costs the features only."""
    settings = load_settings(ROOT / "config.yaml")
    ext = ROOT.parent / "shared" / "eval" / "ext"
    if not ext.exists():
        ext = Path("/work/shared/eval/ext")
    kept = json.loads(cache.read_text(encoding="utf-8")) if cache and cache.exists() else {}
    out, analyzer = {}, None
    for name in SETS:
        t = time.time()
        opened = open_searcher([ext / f"{name}.corpus.jsonl"], settings.retrieval(), settings.index_dir)
        analyzer = opened.searcher.analyzer
        if name not in kept:
            kept[name] = list(retrieved(opened.searcher, ext / f"{name}.gold.jsonl"))
        out[name] = list(questions(analyzer, kept[name]))
        print(f"{name}: {len(out[name])} questions in {time.time() - t:.0f} s", file=sys.stderr)
    if cache and not cache.exists():
        cache.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
    return out


def cross_validate(data: list[dict], precision: float) -> tuple[list, float]:
    """Each question's span from the span model of the folds it is not in, confident by the
    confidence model of the folds it is not in; and the threshold that holds ``precision``."""
    fold = folds(data)
    picks: list = [None] * len(data)
    conf_x, conf_y, conf_fold, conf_index = [], [], [], []
    for k in range(FOLDS):
        train = [d for d, f in zip(data, fold) if f != k]
        with_sentences(data, train)
        w = train_span(train)
        m = span_model(w, answer_trees.of(train_trees(train, w)) if TREES else None)
        held = [i for i, f in enumerate(fold) if f == k]
        x, y, kept = confidence_rows([data[i] for i in held], m)
        conf_x.append(x), conf_y.append(y), conf_fold.append(np.full(len(y), k))
        conf_index += [held[i] for i in kept]
        for i in held:
            picks[i] = chosen(data[i], m)
    cx, cy, cf = np.concatenate(conf_x), np.concatenate(conf_y), np.concatenate(conf_fold)
    cprob = np.zeros(len(cy))
    for k in range(FOLDS):  # the confidence model's own held-out folds
        cw = train_logistic(cx[cf != k], cy[cf != k])
        cprob[cf == k] = 1 / (1 + np.exp(-cx[cf == k] @ cw))
    threshold = threshold_for(cprob, cy, precision)
    for i, prob in zip(conf_index, cprob):
        picks[i] = picks[i]._replace(confident=bool(prob >= threshold))
    return picks, threshold


def write_weights(data: list[dict], report: dict, threshold: float) -> None:
    """Both models trained on every question, with the held-out numbers beside them."""
    ws = with_sentences(data, data)
    w = train_span(data)
    flat = train_trees(data, w) if TREES else None
    x, y, _ = confidence_rows(data, span_model(w, answer_trees.of(flat) if flat else None))
    cw = train_logistic(x, y)
    out = {"source": "bench/train_answer.py over " + ", ".join(SETS), "held_out": report,
           "span": weight_names(w),
           "sentence": {name: round(float(v), 5) for name, v in zip(answer_sentence.FEATURES, ws)},
           "confidence": {name: round(float(v), 5) for name, v in zip(ans.CONFIDENCE + ("bias",), cw)},
           "threshold": round(threshold, 4)}
    path = ROOT / "retrieval" / "data" / "answer_weights.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    trees = path.with_name("answer_trees.json")
    if flat:
        trees.write_text(json.dumps(flat, separators=(",", ":")) + "\n", encoding="utf-8")
    else:
        trees.unlink(missing_ok=True)
    print(f"wrote {path} and {trees}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write retrieval/data/answer_weights.json")
    parser.add_argument("--cache", type=Path, help="JSON file keeping the retrieval step between runs")
    parser.add_argument("--precision", type=float, default=0.9, help="held-out precision the threshold aims at")
    args = parser.parse_args()
    sets = load(args.cache)
    data = [d for name in SETS for d in sets[name]]
    picks, threshold = cross_validate(data, args.precision)
    report, start = {}, 0
    for name in SETS:
        n = len(sets[name])
        report[name] = score(data[start:start + n], picks[start:start + n])
        start += n
    print(json.dumps({"held_out": report, "threshold": round(threshold, 4)}, indent=1))
    if args.write:
        write_weights(data, report, threshold)


if __name__ == "__main__":
    main()
