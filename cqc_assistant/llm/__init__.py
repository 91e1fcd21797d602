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
extractive answer is returned with a notice: this package never raises to the user.

Modules: `chat_model` (Settings → LangChain chat model), `prompt` (the fenced passages; texts in `prompts/`),
`reply` (the reply's sentences and markers), `verify` (the checks above), `answering` (the whole path).
"""

from __future__ import annotations

from .answering import finish, llm_answer, stream_llm_answer
from .chat_model import chat_model_from_settings, describe_model
from .prompt import REFUSAL_TOKEN, build_messages, fence, neutralise
from .reply import Claim, parse_reply
from .verify import Verdict, verify_sentence

__all__ = [
    "REFUSAL_TOKEN",
    "Claim",
    "Verdict",
    "build_messages",
    "chat_model_from_settings",
    "describe_model",
    "fence",
    "finish",
    "llm_answer",
    "neutralise",
    "parse_reply",
    "stream_llm_answer",
    "verify_sentence",
]
