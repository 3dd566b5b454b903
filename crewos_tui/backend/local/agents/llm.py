"""An OpenAI-compatible chat-completions endpoint answering in place of a built-in agent.

The built-in agent's answer goes to the model as workspace context, so the model
answers from the same data. Streaming uses SSE (``stream: true``) read with
httpx-sse. Any failure returns None and the caller falls back to the built-in.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

import httpx
from httpx_sse import aconnect_sse

from .registry import AgentSpec, BuiltinResult

if TYPE_CHECKING:
    from .runtime import AgentAnswer, LLMEndpoint, StreamCallback

log = logging.getLogger(__name__)

#: Tests replace this with an ``httpx.MockTransport``; None = real network.
TRANSPORT: httpx.AsyncBaseTransport | None = None


def messages_for(spec: AgentSpec, prompt: str, builtin: BuiltinResult, instructions: str = "") -> list[dict[str, str]]:
    # ``instructions``: the admin's prompt standard for this agent (system prompt, sections, terms).
    standard = f"{instructions}\n\n" if instructions else ""
    system = (f"You are the CrewOS {spec.name} agent: {spec.description} "
              "Answer in markdown from the workspace context below; do not invent data.\n\n"
              f"{standard}Workspace context:\n{builtin.text}")
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


async def complete(
    endpoint: LLMEndpoint,
    spec: AgentSpec,
    prompt: str,
    builtin: BuiltinResult,
    stream: StreamCallback | None,
    cancel: asyncio.Event | None,
    instructions: str = "",
) -> AgentAnswer | None:
    from .runtime import AgentAnswer, count_tokens

    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    body = {"model": endpoint.model, "messages": messages_for(spec, prompt, builtin, instructions), "stream": True}
    url = endpoint.base_url.rstrip("/") + "/chat/completions"
    parts: list[str] = []
    usage: dict[str, int] = {}
    cancelled = False
    try:
        async with (
            httpx.AsyncClient(timeout=endpoint.timeout, transport=TRANSPORT) as client,
            aconnect_sse(client, "POST", url, json=body, headers=headers) as source,
        ):
            source.response.raise_for_status()
            async for sse in source.aiter_sse():
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                if sse.data.strip() == "[DONE]":
                    break
                chunk = json.loads(sse.data)
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices", []):
                    delta = (choice.get("delta") or {}).get("content") or ""
                    if delta:
                        parts.append(delta)
                        if stream is not None:
                            await stream(delta)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("model endpoint %s failed: %s", endpoint.base_url, exc)
        if not parts:
            return None
        cancelled = True  # a broken stream keeps what arrived, marked incomplete
    text = "".join(parts)
    return AgentAnswer(
        text=text, agent=spec.name, model=endpoint.model, sources=list(builtin.sources), data=dict(builtin.data),
        tokens_in=int(usage.get("prompt_tokens", count_tokens(prompt))),
        tokens_out=int(usage.get("completion_tokens", count_tokens(text))),
        cancelled=cancelled,
    )
