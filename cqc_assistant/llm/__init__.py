"""LLM answers through LangChain chat models, used only when configured; citations are always verified.

The model sees the retrieved passages fenced as data (`<<<PASSAGE n>>> ... <<<END PASSAGE n>>>`, with any
fence-like text inside a passage neutralised) and must end every sentence with [n]. Its reply is then checked
sentence by sentence (`verify_sentence`):

1. the sentence cites at least one passage, and n is the number of a passage that was given (a sentence
   without [n] takes the markers of the next cited sentence on its line, and is still checked on its own);
2. the cited passage has a sentence that supports it: at least 60% of the answer sentence's content words
   (stemmed, stop words and framing words removed: `index.terms.content_terms`) occur in that one sentence;
   passage sentences that read as instructions to a model ("ignore previous instructions ...") never count;
3. every rating word in the answer sentence (Outstanding, Good, Requires improvement, Inadequate) occurs in
   that same supporting sentence, and the two agree on negation (not, no, never, ...);
4. every number in the answer sentence (amounts, percentages, dates) occurs in the cited passage, outside
   instruction-like sentences;
5. a sentence crediting CQC (or inspectors) may not cite an LGA peer challenge unless its support names CQC.

A sentence that fails for every passage it cites is dropped and counted in `Answer.notice`; a kept sentence
is cited with its supporting sentence, quoted with exact offsets (`quote == stored_text[start:end]`). If
nothing survives, the model replies with the refusal token, or the model cannot be reached or fails, the
extractive answer is returned with a notice: this module never raises to the user.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from .config import Settings
from .index.terms import content_terms
from .models import Answer, Citation, Passage
from .prompts import load_prompt
from .protocols import ChatModel
from .text import looks_like_instruction, sentences

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate

    from .index.retriever import Filters

log = logging.getLogger(__name__)

REFUSAL_TOKEN = "NOT_IN_LIBRARY"
LLM_TIMEOUT_S = 60.0
MIN_COVERAGE = (3, 5)  # a supporting sentence holds at least 3/5 of the answer sentence's content words
MIN_WORDS = 3  # shorter fragments ("Sources:", "Yes.") are not claims and are left out silently

KIND_LABELS = {
    "cqc_assessment": "CQC local authority assessment (findings of the Care Quality Commission)",
    "cqc_press_release": "CQC press release",
    "lga_peer_challenge": "LGA peer challenge (findings of a peer team invited by the council, NOT of CQC)",
    "news": "news report (a newspaper's reporting, not CQC's)",
    "other": "other document",
}

# --- settings → chat model ------------------------------------------------------------------------------


def chat_model_from_settings(settings: Settings) -> tuple[ChatModel | None, str | None]:
    """(chat model or None, notice for the user). No provider configured → extractive, no notice.

    Builds the client only; nothing is sent until a question is asked.
    """
    provider, model = settings.llm_provider, settings.llm_model
    if provider is None:
        if model:
            return None, (
                "CQC_ASSISTANT_LLM_MODEL is set but CQC_ASSISTANT_LLM_PROVIDER is not "
                "('openai' or 'ollama'); answers are extractive"
            )
        return None, None
    if not model:
        return None, (
            f"CQC_ASSISTANT_LLM_PROVIDER is {provider} but CQC_ASSISTANT_LLM_MODEL is not set; answers are extractive"
        )
    try:
        if provider == "openai":
            return _openai(settings, model)
        if provider == "ollama":
            from langchain_ollama import ChatOllama

            chat = ChatOllama(
                model=model, base_url=settings.llm_base_url, temperature=0,
                client_kwargs={"timeout": LLM_TIMEOUT_S},
            )  # fmt: skip
            return chat, None
    except ImportError as exc:
        return None, f"the {provider} chat model is not installed ({exc.name or exc}); answers are extractive"
    except Exception as exc:  # a bad URL or option: tell the user and carry on extractively
        return None, f"could not set up the {provider} chat model ({_brief(exc)}); answers are extractive"
    return None, f"unknown LLM provider {provider!r} ('openai' or 'ollama'); answers are extractive"


def _openai(settings: Settings, model: str) -> tuple[ChatModel | None, str | None]:
    from langchain_openai import ChatOpenAI

    key = settings.llm_api_key
    if not key:
        if not settings.llm_base_url:
            return None, (
                "the openai provider needs CQC_ASSISTANT_LLM_API_KEY (or OPENAI_API_KEY), or "
                "CQC_ASSISTANT_LLM_BASE_URL for a local OpenAI-compatible server; answers are extractive"
            )
        key = "not-needed"  # local OpenAI-compatible servers ignore the key, but the client wants one
    kwargs: dict[str, Any] = {
        "model": model, "base_url": settings.llm_base_url, "api_key": key, "timeout": LLM_TIMEOUT_S,
        "max_retries": 1,
    }  # fmt: skip
    if not re.match(r"o\d", model):  # o-series reasoning models accept only their default temperature
        kwargs["temperature"] = 0
    return ChatOpenAI(**kwargs), None


def describe_model(chat: ChatModel) -> str:
    """`llama3.1 at http://localhost:11434`, for notices."""
    model = getattr(chat, "model_name", None) or getattr(chat, "model", None)
    url = getattr(chat, "openai_api_base", None) or getattr(chat, "base_url", None)
    name = type(chat).__name__
    if not url and name == "ChatOpenAI":
        url = "https://api.openai.com/v1"
    elif not url and name == "ChatOllama":
        url = "http://localhost:11434"
    model = model if isinstance(model, str) else name
    return f"{model} at {url}" if isinstance(url, str) and url else model


# --- prompt ---------------------------------------------------------------------------------------------

_FENCE_RUN = re.compile(r"<{2,}|>{2,}|‹{2,}|›{2,}")


def neutralise(text: str) -> str:
    """Make fence markers impossible inside data: runs of 2+ angle brackets become single guillemets."""
    return _FENCE_RUN.sub(lambda m: ("‹ " if m.group()[0] in "<‹" else "› ") * len(m.group()), text)


def fence(n: int, passage: Passage) -> str:
    """One passage as data between `<<<PASSAGE n>>>` and `<<<END PASSAGE n>>>`, headed by where it is from."""
    head = [
        f"Document: {passage.title}",
        f"Source type: {KIND_LABELS.get(passage.kind or 'other', KIND_LABELS['other'])}",
    ]
    if passage.council:
        head.append(f"Council: {passage.council}")
    if passage.section:
        head.append(f"Section: {passage.section}")
    if passage.date:
        head.append(f"Date: {passage.date}")
    body = "\n".join(head) + "\nText:\n" + passage.text.strip()
    return f"<<<PASSAGE {n}>>>\n{neutralise(body)}\n<<<END PASSAGE {n}>>>"


@cache
def answer_prompt() -> ChatPromptTemplate:
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages(
        [("system", load_prompt("answer_system")), ("human", load_prompt("answer_user"))]
    )


def build_messages(question: str, passages: Sequence[Passage], filters: Filters) -> list[BaseMessage]:
    return answer_prompt().format_messages(
        question=neutralise(question),
        filters=filters.describe(),
        count=len(passages),
        passages="\n\n".join(fence(i + 1, p) for i, p in enumerate(passages)),
        refusal=REFUSAL_TOKEN,
    )


# --- answering ------------------------------------------------------------------------------------------


def llm_answer(
    chat: ChatModel, question: str, passages: Sequence[Passage], filters: Filters, *, fallback: Answer
) -> Answer:
    """The model's answer with every sentence's citation verified, or `fallback` with a notice."""
    if fallback.refused or not passages:
        return fallback
    try:
        reply = chat.invoke(build_messages(question, passages, filters))
    except Exception as exc:  # connection refused, timeout, auth, rate limit, a bad model name ...
        return _failed(chat, exc, fallback)
    return finish(_text_of(reply), question, passages, fallback=fallback)


def stream_llm_answer(
    chat: ChatModel, question: str, passages: Sequence[Passage], filters: Filters, *, fallback: Answer
) -> Iterator[str | Answer]:
    """Text chunks as the model writes them, then the verified `Answer` (always last, always yielded).

    The chunks are the model's unchecked draft, for showing progress; the final Answer replaces them.
    """
    if fallback.refused or not passages:
        yield fallback
        return
    raw, shown = "", ""
    try:
        for chunk in chat.stream(build_messages(question, passages, filters)):
            raw += _text_of(chunk)
            visible = _visible(raw)
            if len(visible) > len(shown) and visible.startswith(shown):
                yield visible[len(shown) :]
                shown = visible
    except Exception as exc:
        yield _failed(chat, exc, fallback)
        return
    yield finish(raw, question, passages, fallback=fallback)


def finish(raw: str, question: str, passages: Sequence[Passage], *, fallback: Answer) -> Answer:
    """Verify a model reply against the passages it was given (see the module docstring)."""
    text = _strip_thinking(raw).strip()
    if re.search(r"\bNOT[_ ]IN[_ ]LIBRARY\b", text, re.I):
        return _with_notice(fallback, "the model declined; showing the extractive answer")
    claims = parse_reply(text)
    if not claims:
        return _with_notice(fallback, "the model returned no answer; showing the extractive answer")
    evidence = [_Evidence.of(p) for p in passages]
    kept: list[tuple[str, list[tuple[int, int, int]]]] = []  # (sentence, [(passage index, i, j)])
    dropped: dict[str, int] = {}
    for claim in claims:
        verdict = verify_sentence(claim.text, claim.cites, evidence)
        if verdict.spans:
            kept.append((claim.text, verdict.spans))
        else:
            dropped[verdict.reason] = dropped.get(verdict.reason, 0) + 1
            log.info("dropped model sentence (%s): %s %s", verdict.reason, claim.text, claim.cites)
    if not kept:
        return _with_notice(
            fallback,
            f"the model's answer did not survive citation checks ({_dropped_notice(dropped)}); "
            "showing the extractive answer",
        )
    citations: dict[tuple[str, int, int], Citation] = {}
    parts = []
    for sentence, spans in kept:
        marks = []
        for idx, i, j in spans:
            p = passages[idx]
            key = (p.doc_id, p.start + i, p.start + j)
            if key not in citations:
                citations[key] = Citation(
                    n=len(citations) + 1, doc_id=p.doc_id, title=p.title, source=p.source, section=p.section,
                    start=p.start + i, end=p.start + j, quote=p.text[i:j], page=p.page, council=p.council,
                    kind=p.kind,
                )  # fmt: skip
            mark = f"[{citations[key].n}]"
            if mark not in marks:
                marks.append(mark)
        parts.append(f"{sentence} {''.join(marks)}")
    return Answer(
        question=question, answer=" ".join(parts), refused=False, citations=tuple(citations.values()),
        filters=fallback.filters, searched=fallback.searched, notice=_dropped_notice(dropped), mode="llm",
    )  # fmt: skip


# --- parsing the reply ----------------------------------------------------------------------------------

_MARKER = re.compile(r"\s*\[\s*(?:passages?\s*)?\d+(?:\s*(?:,|;|and)\s*(?:passages?\s*)?\d+)*\s*\]", re.I)
_LINE_PREFIX = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*•]\s+|\d+[.)]\s+)")
_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.S | re.I)


@dataclass(frozen=True)
class Claim:
    text: str
    cites: tuple[int, ...]  # passage numbers as written, 1-based


def parse_reply(text: str) -> list[Claim]:
    """Sentences of the reply with the [n] markers that belong to them.

    Markers are taken out of the text first, remembering where they stood; a marker belongs to the sentence
    it stands in or ends. A sentence without a marker takes the next cited sentence's markers on the same
    line (models often cite once after two sentences from one passage); each is still verified on its own.
    """
    claims: list[Claim] = []
    for line in text.splitlines():
        line = _LINE_PREFIX.sub("", line).replace("**", "").replace("__", "").replace("`", "")
        plain, marks, cursor = "", [], 0
        for m in _MARKER.finditer(line):
            plain += line[cursor : m.start()]
            marks.append((len(plain), tuple(int(x) for x in re.findall(r"\d+", m.group()))))
            cursor = m.end()
        plain += line[cursor:]
        spans = list(sentences(plain))
        cites: list[list[int]] = [[] for _ in spans]
        for pos, ns in marks:
            k = next((k for k, (s, e) in enumerate(spans) if s <= pos <= e), len(spans) - 1)
            for n in ns if k >= 0 else ():
                if n not in cites[k]:
                    cites[k].append(n)
        inherited: list[int] = []
        for k in range(len(spans) - 1, -1, -1):
            if cites[k]:
                inherited = cites[k]
            else:
                cites[k] = inherited
        for (s, e), cited in zip(spans, cites, strict=True):
            sentence = plain[s:e].strip()
            if len(re.findall(r"\w+", sentence)) < MIN_WORDS:
                continue
            if not re.search(r"[.!?…]['\")\]]*$", sentence):
                sentence += "."
            claims.append(Claim(sentence, tuple(cited)))
    return claims


# --- verification ---------------------------------------------------------------------------------------

_RATING = re.compile(r"\b(outstanding|good|inadequate|requir(?:es|ed|ing|e)\s+improvement)\b", re.I)
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_NEGATION = re.compile(r"\b(not|no|never|none|nobody|nothing|neither|nor|without|cannot)\b|n't\b", re.I)
_CQC = re.compile(r"\bCQC\b|\bCare Quality Commission\b|\binspectors?\b", re.I)
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        re.split(
            r"\s+",
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen twenty",
        )
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80"}


def _numbers(text: str, *, words: bool = False) -> set[str]:
    out = set()
    for m in _NUMBER.finditer(text):
        n = m.group().replace(",", "")
        if "." in n:
            n = n.rstrip("0").rstrip(".")
        out.add(n)
    if words:
        out |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return out


def _ratings(text: str) -> set[str]:
    return {"requires improvement" if r.lower().startswith("requir") else r.lower() for r in _RATING.findall(text)}


is_instruction = looks_like_instruction


@dataclass(frozen=True)
class _Sentence:
    start: int  # offsets into passage.text
    end: int
    terms: frozenset[str]
    ratings: frozenset[str]
    negated: bool
    cqc: bool


@dataclass(frozen=True)
class _Evidence:
    passage: Passage
    sentences: tuple[_Sentence, ...]
    numbers: frozenset[str]

    @classmethod
    def of(cls, p: Passage) -> _Evidence:
        kept, numbers = [], set()
        for i, j in sentences(p.text):
            s = p.text[i:j]
            if is_instruction(s):
                continue
            numbers |= _numbers(s, words=True)
            kept.append(
                _Sentence(
                    i,
                    j,
                    frozenset(content_terms(s)),
                    frozenset(_ratings(s)),
                    bool(_NEGATION.search(s)),
                    bool(_CQC.search(s)),
                )  # fmt: skip
            )
        return cls(p, tuple(kept), frozenset(numbers))


@dataclass
class Verdict:
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (passage index, i, j) per good citation
    reason: str = "unsupported"  # why it was dropped, when spans is empty


def verify_sentence(sentence: str, cites: Sequence[int], evidence: Sequence[_Evidence]) -> Verdict:
    """Which of the cited passages support the sentence, each with its best supporting sentence."""
    if not cites:
        return Verdict(reason="uncited")
    valid = [n for n in cites if 1 <= n <= len(evidence)]
    if not valid:
        return Verdict(reason="out_of_range")
    terms = set(content_terms(sentence))
    need = -(-MIN_COVERAGE[0] * len(terms) // MIN_COVERAGE[1])
    ratings, numbers = _ratings(sentence), _numbers(sentence)
    negated, cqc = bool(_NEGATION.search(sentence)), bool(_CQC.search(sentence))
    verdict = Verdict()
    for n in valid:
        ev = evidence[n - 1]
        if not terms or not numbers <= ev.numbers:
            continue
        best: tuple[int, int, _Sentence] | None = None
        for k, s in enumerate(ev.sentences):
            hit = len(terms & s.terms)
            if hit < need or not ratings <= s.ratings or s.negated != negated:
                continue
            if cqc and ev.passage.kind == "lga_peer_challenge" and not s.cqc:
                verdict.reason = "misattributed"
                continue
            if best is None or (hit, -k) > (best[0], best[1]):
                best = (hit, -k, s)
        if best is not None:
            verdict.spans.append((n - 1, best[2].start, best[2].end))
    return verdict


# --- helpers --------------------------------------------------------------------------------------------


def _text_of(message: Any) -> str:
    if isinstance(message, str):
        return message
    text = getattr(message, "text", None)
    if isinstance(text, str):  # langchain-core 1.x: a property (a callable str subclass)
        return str(text)
    if callable(text):
        text = text()
        if isinstance(text, str):
            return text
    content = getattr(message, "content", "")
    return content if isinstance(content, str) else ""


def _strip_thinking(text: str) -> str:
    return _THINK.sub("", text)


def _visible(raw: str) -> str:
    """The draft without reasoning blocks, holding back a trailing partial `<think>` tag."""
    text = _strip_thinking(raw)
    for k in range(min(len(text), 6), 0, -1):
        if "<think>".startswith(text[-k:].lower()):
            return text[:-k]
    return text


def _brief(exc: BaseException) -> str:
    msg = re.sub(r"sk-[A-Za-z0-9_\-]{6,}", "sk-…", str(exc)).strip().splitlines()
    first = msg[0][:160] if msg else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _failed(chat: ChatModel, exc: BaseException, fallback: Answer) -> Answer:
    name = type(exc).__name__.lower()
    unreachable = isinstance(exc, (ConnectionError, TimeoutError)) or "connect" in name or "timeout" in name
    what = "was unreachable" if unreachable else "failed"
    log.warning("chat model %s: %s", what, _brief(exc))
    return _with_notice(
        fallback,
        f"the configured model {describe_model(chat)} {what} ({_brief(exc)}); showing the extractive answer",
    )


def _with_notice(answer: Answer, notice: str) -> Answer:
    return replace(answer, notice=f"{answer.notice}; {notice}" if answer.notice else notice)


_REASONS = {  # reason: (one sentence, several sentences)
    "uncited": ("it had no citation", "they had no citation"),
    "out_of_range": ("it cited a passage that was not given", "they cited passages that were not given"),
    "unsupported": ("its citation did not support it", "their citations did not support them"),
    "misattributed": (
        "it credited CQC with an LGA peer challenge finding",
        "they credited CQC with LGA peer challenge findings",
    ),
}


def _dropped_notice(dropped: dict[str, int]) -> str | None:
    """`1 sentence dropped: its citation did not support it`, or one clause per reason."""
    total = sum(dropped.values())
    if not total:
        return None
    head = f"{total} sentence{'s' if total != 1 else ''} dropped"
    if len(dropped) == 1:
        return f"{head}: {_REASONS[next(iter(dropped))][0 if total == 1 else 1]}"
    detail = "; ".join(f"{n} because {_REASONS[r][0 if n == 1 else 1]}" for r, n in dropped.items())
    return f"{head}: {detail}"
