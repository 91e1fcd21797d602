"""The fitted sentence ranker: a logistic regression over general features of (question, candidate sentence).

It chooses the answering sentences, the first by a listwise model over the same features (`default_lead`,
fitted to put an answering sentence first among a question's candidates); a second model over its scores (the
support model) and that model's threshold decide whether to answer at all. Their parameters are package data
(`data/ranker.json`), fitted by `bench/fit_ranker.py` on the dev sets' labelled candidates, with the data version
and the feature list they came from; the threshold was chosen by grouped cross-validation for a stated
false-refusal rate. Loading and scoring are deterministic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import ConfigError

# Every feature a candidate sentence has (answer.py computes them; see README "How it works").
FEATURES: tuple[str, ...] = (
    "lexical",  # IDF-weighted share of the question's terms the sentence covers (glossary synonyms, heading)
    "literal",  # the same without glossary synonyms
    "dense",  # cosine similarity of the question and the sentence with its heading
    "pooled",  # 1 when the sentence was compared densely (the best lexical candidates are)
    "rank_prior",  # 1 / (1 + the passage's rank)
    "passage_rel",  # the passage's fused score over the best passage's
    "kind_match",  # the question asks for a kind of answer (a date, a figure...) and the sentence has one
    "kind_miss",  # it asks for one and the sentence has none
    "year_miss",  # the question names a year the sentence (with its heading) does not
    "qs_about",  # the question names a quality statement and the sentence or its section is about it
    "qs_other",  # the sentence names another quality statement than the one asked about
    "qs_meaning",  # the question's closeness in meaning to the section's quality statement
    "council_agree",  # the question names a council and the passage is about it
    "absent",  # share of the question's known words no typed candidate holds (a question-level signal)
    "topic_miss",  # share of the glossary things asked about the sentence does not name
    "log_words",  # log of the sentence's word count
    "position",  # the sentence's place in its passage, 0 (first) to 1 (last)
    "opening",  # the sentence is on the document's first line (a title or summary line)
    "heading_dense",  # cosine similarity of the question and the sentence's section title
    "heading_line",  # the sentence is its passage's heading line (a name, a date line, a score line)
    "counts_asked",  # a "how many" question: 1 when a number of the sentence counts what is asked, to -1
    "dense_gap",  # its dense similarity less the best among the question's candidates (0 for the best)
    "lexical_gap",  # its lexical coverage less the best among them
)
# Every feature a retrieved passage has for the fitted fusion of the two sides (index/retriever.py).
PASSAGE_FEATURES: tuple[str, ...] = (
    "lex_rr",  # 1 / (1 + the passage's rank on the lexical side), 0 when that side did not find it
    "lex_norm",  # its BM25 over the best BM25
    "dense_rr",  # 1 / (1 + its rank on the dense side)
    "dense_sim",  # its cosine similarity to the question
    "boilerplate",  # CQC's standard text, the same for every council
    "council",  # it is about a council the question names
)
# Whether to answer at all: features of the question's candidates once the sentence ranker has scored them.
SUPPORT_FEATURES: tuple[str, ...] = (
    "best",  # the best sentence's probability, as log-odds
    "second",  # the second best's
    "best_lexical",  # the highest lexical coverage among the candidates
    "best_literal",  # the same without glossary synonyms
    "best_dense",  # the highest dense similarity
    "absent",  # share of the question's known words no typed candidate holds
    "top_kind_miss",  # the best sentence lacks the kind of answer asked for
    "top_topic_miss",  # the best sentence names none of the glossary things asked about
    "kind_asked",  # the question asks for a kind of answer
    "top_council_agree",  # the best sentence is about the council the question names
    "top_counts_asked",  # the best sentence counts what a "how many" question asks about (1), or not (-1)
    "top_year_miss",  # the best sentence (with its heading) is not of the year the question names
    "top_heading_dense",  # how close in meaning the question is to the best sentence's section title
    "typed_share",  # the candidates holding the kind of answer asked for, over at least TYPED_OVER of them
)
# A question over a full library has 37-79 candidates (10th-90th percentile, bench/pool_depth.py): the typed share is
# taken over at least 40, so that a small library's few sentences, all holding numbers, are not a large share.
TYPED_OVER = 40
DATA = "ranker.json"


@dataclass(frozen=True)
class Ranker:
    features: tuple[str, ...]
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    weights: NDArray[np.float64]
    bias: float
    threshold: float  # answer only when the probability (best sentence's, or the support model's) reaches this
    second_ratio: float  # a further citation needs this share of the best sentence's probability
    data_version: str = ""
    target_false_refusal: float = 0.0
    embedder: str = ""  # the embedder whose similarities it was fitted on ("" = any)
    # A cited sentence's neighbour joins its quote when it has this share of the sentence's probability (over 1:
    # never), so one passage is quoted whole rather than as two citations or a half.
    neighbour_ratio: float = 2.0

    def score(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """P(the sentence answers the question) for each row of x (columns in `self.features` order)."""
        if x.size == 0:
            return np.zeros(0)
        z = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))), dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {
            "model": "logistic",
            "data_version": self.data_version,
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(self.bias, 6),
            "threshold": round(self.threshold, 6),
            "second_ratio": round(self.second_ratio, 6),
            "target_false_refusal": self.target_false_refusal,
            "embedder": self.embedder,
            "neighbour_ratio": round(self.neighbour_ratio, 6),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], expected: tuple[str, ...] = FEATURES) -> Ranker:
        feats = tuple(data["features"])
        if feats != expected:
            missing = sorted(set(expected) ^ set(feats))
            raise ConfigError(f"the ranker's features do not match this version's (differ: {', '.join(missing)})")
        return cls(
            features=feats,
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
            threshold=float(data.get("threshold", 0.0)),
            second_ratio=float(data.get("second_ratio", 1.0)),
            data_version=str(data.get("data_version", "")),
            target_false_refusal=float(data.get("target_false_refusal", 0.0)),
            embedder=str(data.get("embedder", "")),
            neighbour_ratio=float(data.get("neighbour_ratio", 2.0)),
        )

    @classmethod
    def load(cls, path: Path | None = None, part: str = "sentences") -> Ranker:
        """`part`: "sentences" (the answer ranker), "lead" (the first citation's), "support" (answer or refuse)
        or "passages" (the fitted fusion)."""
        text = path.read_text() if path else resources.files("cqc_assistant").joinpath("data", DATA).read_text()
        data = json.loads(text)
        expected = {"sentences": FEATURES, "lead": FEATURES, "passages": PASSAGE_FEATURES, "support": SUPPORT_FEATURES}[
            part
        ]
        return cls.from_json(data[part], expected)


@cache
def default_ranker() -> Ranker:
    """The shipped sentence ranker, read once."""
    return Ranker.load()


@cache
def default_lead() -> Ranker:
    """The shipped first-citation model, read once: only its order among one question's candidates counts."""
    return Ranker.load(part="lead")


@cache
def default_support() -> Ranker:
    """The shipped answer-or-refuse model, read once: its threshold is the refusal threshold."""
    return Ranker.load(part="support")


def support_features(x: NDArray[np.float64], probs: NDArray[np.float64]) -> list[float]:
    """SUPPORT_FEATURES of one question, from its candidates' features (rows of x) and probabilities."""
    if not len(probs):
        return [0.0] * len(SUPPORT_FEATURES)
    order = np.argsort(-probs, kind="stable")
    top = order[0]
    col = {f: i for i, f in enumerate(FEATURES)}
    return [
        _logit(float(probs[top])),
        _logit(float(probs[order[1]])) if len(order) > 1 else _logit(0.0),
        float(x[:, col["lexical"]].max()),
        float(x[:, col["literal"]].max()),
        float(x[:, col["dense"]].max()),
        float(x[top, col["absent"]]),
        float(x[top, col["kind_miss"]]),
        float(x[top, col["topic_miss"]]),
        float(x[top, col["kind_match"]] + x[top, col["kind_miss"]]),
        float(x[top, col["council_agree"]]),
        float(x[top, col["counts_asked"]]),
        float(x[top, col["year_miss"]]),
        float(x[top, col["heading_dense"]]),
        float(x[:, col["kind_match"]].sum() / max(len(probs), TYPED_OVER)),
    ]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


@cache
def default_fusion() -> Ranker:
    """The shipped fusion of the lexical and dense sides, read once."""
    return Ranker.load(part="passages")
