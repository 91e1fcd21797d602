"""The seams in protocols.py: the embedders and LangChain's chat models satisfy them as they are."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage

from cqc_assistant import embedding
from cqc_assistant.config import Settings
from cqc_assistant.embedding import HashEmbedder
from cqc_assistant.llm import chat_model_from_settings
from cqc_assistant.protocols import ChatModel, Embedder


def test_the_embedders_are_embedders_under_both_names() -> None:
    hashed = HashEmbedder()
    assert isinstance(hashed, Embedder) and isinstance(hashed, embedding.Embedder)
    assert hashed.embed(["carers"]).shape == (1, hashed.dimension)
    assert not isinstance(object(), Embedder)


def test_langchain_chat_models_are_chat_models() -> None:
    fake = GenericFakeChatModel(messages=iter([AIMessage(content="Carers waited [1].")]))
    assert isinstance(fake, ChatModel)
    assert fake.invoke([HumanMessage(content="How long?")]).content == "Carers waited [1]."
    chat, notice = chat_model_from_settings(
        Settings.from_env({"CQC_ASSISTANT_LLM_PROVIDER": "ollama", "CQC_ASSISTANT_LLM_MODEL": "llama3.1"})
    )
    assert notice is None and isinstance(chat, ChatModel)  # built only: nothing is sent
    assert not isinstance(object(), ChatModel)
