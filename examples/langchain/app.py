"""A tiny LangChain application: a chain that writes product blurbs through the Edgee gateway.

It knows nothing about mockgw: `ChatOpenAI` takes its base URL and key from OPENAI_BASE_URL and OPENAI_API_KEY.
"""

from __future__ import annotations

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable
from langchain_openai import ChatOpenAI

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You write one-line product blurbs for an online shop."),
        ("user", "Write a blurb for: {product}"),
    ]
)


def blurb_chain() -> Runnable[dict[str, str], str]:
    """prompt | model | text, on the gateway's OpenAI-compatible API."""
    return PROMPT | ChatOpenAI(model="openai/gpt-4o", max_retries=0) | StrOutputParser()


def blurb(product: str) -> str:
    return blurb_chain().invoke({"product": product})


def streamed_blurb(product: str) -> str:
    return "".join(blurb_chain().stream({"product": product}))
