"""The `openai` kind against the loopback server: images, usage, cost, errors, keys."""

from __future__ import annotations

import asyncio
import email.utils
import io
import json
import time

import pytest
from PIL import Image

from core.backends import BackendConfig, ChatRequest, ImagePart, make_backend
from core.backends import base as b
from core.backends.openai_kind import retry_after_seconds


def _png(size, mode="RGB", color="red") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


def _backend(loopback, **kw):
    cfg = dict(name="lb", kind="openai", model="gpt-4o", base_url=loopback.url, timeout_s=5) | kw
    return make_backend(BackendConfig(**cfg))


def test_images_go_as_data_uris_with_their_type_shrunk_to_the_longest_side(loopback, tmp_path):
    jpeg = tmp_path / "photo.jpg"
    Image.new("RGB", (300, 200), "green").save(jpeg, "JPEG")
    backend = _backend(loopback, image_max_side=512)
    req = ChatRequest.user(
        "what is here",
        [
            ImagePart(data=_png((2048, 1024))),  # too big: re-encoded as JPEG, 512 wide
            ImagePart(data=_png((100, 50))),  # fits: sent as it is, still PNG
            ImagePart(data=_png((1000, 1000), "RGBA", (0, 0, 0, 0))),  # alpha survives as PNG
            jpeg,
        ],
    )
    reply = backend.chat_sync(req)
    assert loopback.stats.images == [
        ("image/jpeg", 512, 256),
        ("image/png", 100, 50),
        ("image/png", 512, 512),
        ("image/jpeg", 300, 200),
    ]
    assert "[image/png 100x50]" in reply.text


def test_detail_and_sampling_options_reach_the_server(loopback):
    seen = {}

    def reply(body, images):
        seen.update(body)
        return "fine"

    loopback.reply = reply
    backend = _backend(loopback, image_detail="low")
    backend.chat_sync(
        ChatRequest.user("x", [ImagePart(data=_png((10, 10)), detail="high"), ImagePart(data=_png((10, 10)))],
                         max_tokens=7, temperature=0.5, seed=3)
    )  # fmt: skip
    parts = seen["messages"][0]["content"]
    assert [p["image_url"]["detail"] for p in parts[1:]] == ["high", "low"]
    assert (seen["model"], seen["max_tokens"], seen["temperature"], seen["seed"]) == (
        "gpt-4o",
        7,
        0.5,
        3,
    )


def test_usage_and_cost_come_from_the_reply_and_the_price_table(loopback):
    backend = _backend(loopback)  # gpt-4o: $2.50 in, $10 out per 1M tokens
    reply = backend.chat_sync(ChatRequest.user("count these words please"))
    assert reply.usage.prompt_tokens == loopback.stats.prompt_tokens > 0
    assert reply.usage.completion_tokens == loopback.stats.completion_tokens > 0
    expected = reply.usage.prompt_tokens * 2.5e-6 + reply.usage.completion_tokens * 10e-6
    assert backend.cost(reply.usage) == pytest.approx(expected)
    assert backend.cost(reply.usage, batch=True) == pytest.approx(expected / 2)


@pytest.mark.parametrize(
    ("fault", "error", "retryable"),
    [
        ("429", b.RateLimited, True),
        ("500", b.ServerError, True),
        ("400", b.RequestRejected, False),
        ("401", b.AuthFailed, False),
        ("truncated", b.BadResponse, True),
        ("empty", b.EmptyResponse, True),
        ("disconnect", b.ConnectionFailed, True),
        ("hang", b.RequestTimeout, True),
    ],
)
def test_each_failure_has_its_own_class(loopback, fault, error, retryable):
    loopback.hang_s = 3
    loopback.add_fault(fault, retry_after=2.5)
    backend = _backend(loopback)
    with pytest.raises(error) as info:
        backend.chat_sync(ChatRequest.user("x"), timeout=0.5)
    assert info.value.retryable is retryable
    if fault == "429":
        assert info.value.retry_after == 2.5 and info.value.http_status == 429


def test_a_closed_port_is_a_connection_error(loopback):
    port = loopback.port
    loopback.stop()
    backend = make_backend(
        BackendConfig(name="gone", kind="openai", model="m", base_url=f"http://127.0.0.1:{port}/v1")
    )
    with pytest.raises(b.ConnectionFailed, match="cannot reach gone"):
        backend.chat_sync(ChatRequest.user("x"))


def test_retry_after_header_forms():
    assert retry_after_seconds({"retry-after": "3"}) == 3
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_after_seconds({"retry-after": future}) <= 31
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_one_backend_serves_several_event_loops(loopback):
    backend = _backend(loopback)

    async def twice():
        return await asyncio.gather(*(backend.chat(ChatRequest.user(f"n{i}")) for i in range(5)))

    for _ in range(2):
        assert len(asyncio.run(twice())) == 5
    assert loopback.stats.ok == 10


def test_json_schema_is_sent_as_structured_output(loopback):
    seen = {}
    loopback.reply = lambda body, images: seen.update(body) or json.dumps({"answer": "A"})
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    }
    reply = _backend(loopback).chat_sync(
        ChatRequest(messages=[b.Message("user", "q")], json_schema=schema)
    )
    assert seen["response_format"]["json_schema"]["schema"] == schema
    assert json.loads(reply.text) == {"answer": "A"}
