"""The Discord stand-in answers like Discord, so the relay's tests mean something."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from testkit.discord import AcceptedWatch, Standin, validate_message

pytestmark = pytest.mark.integration


def embed(**overrides: object) -> dict:
    return {"title": "t", "description": "d", **overrides}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"content": "x" * 2001}, ["content"]),
        ({"embeds": [embed() for _ in range(11)]}, ["embeds"]),
        ({"embeds": [embed(title="x" * 257)]}, ["embeds", "0", "title"]),
        ({"embeds": [embed(description="x" * 4097)]}, ["embeds", "0", "description"]),
        ({"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]}, ["embeds", "0", "fields"]),
        (
            {"embeds": [embed(fields=[{"name": "n", "value": "v" * 1025}])]},
            ["embeds", "0", "fields", "0", "value"],
        ),
        (
            {"embeds": [embed(fields=[{"name": "n" * 257, "value": "v"}])]},
            ["embeds", "0", "fields", "0", "name"],
        ),
        ({"embeds": [embed(footer={"text": "f" * 2049})]}, ["embeds", "0", "footer", "text"]),
        # Each embed is within its own limits, together they are over 6000.
        ({"embeds": [embed(description="x" * 4000), embed(description="y" * 2000)]}, ["embeds"]),
        ({"content": "x", "username": "My Discord Bot"}, ["username"]),
        ({"embeds": [embed(color=0x1000000)]}, ["embeds", "0", "color"]),
        ({"embeds": [embed(timestamp="yesterday")]}, ["embeds", "0", "timestamp"]),
    ],
)
def test_a_message_over_any_limit_gets_discords_400(
    standin: Standin, body: dict, path: list[str]
) -> None:
    response = httpx.post(standin.webhook_url(), json=body)
    assert response.status_code == 400
    answer = response.json()
    assert (answer["code"], answer["message"]) == (50035, "Invalid Form Body")
    node = answer["errors"]
    for key in path:
        node = node[key]
    assert node["_errors"][0]["code"]
    assert standin.accepted() == []
    assert validate_message(body) == answer["errors"]


def test_an_empty_message_is_refused(standin: Standin) -> None:
    response = httpx.post(standin.webhook_url(), json={"content": "  "})
    assert response.json() == {"code": 50006, "message": "Cannot send an empty message"}


def test_a_valid_message_is_recorded_and_wait_true_returns_it(standin: Standin) -> None:
    body = {"content": "hello", "embeds": [embed(description="x" * 4096)]}
    assert httpx.post(standin.webhook_url(), json=body).status_code == 204
    saved = httpx.post(standin.webhook_url(), params={"wait": "true"}, json=body)
    assert saved.status_code == 200
    assert saved.json()["content"] == "hello"
    assert [record["body"] for record in standin.accepted()] == [body, body]


def test_429_carries_retry_after_in_body_and_header_then_recovers(standin: Standin) -> None:
    standin.set_mode("429", retry_after=2.5, count=2)
    for _ in range(2):
        limited = httpx.post(standin.webhook_url(), json={"content": "x"})
        assert limited.status_code == 429
        assert limited.json() == {
            "message": "You are being rate limited.",
            "retry_after": 2.5,
            "global": False,
        }
        assert limited.headers["Retry-After"] == "2.5"
    assert httpx.post(standin.webhook_url(), json={"content": "x"}).status_code == 204
    assert [request["answer"] for request in standin.requests()] == [429, 429, 200]


def test_500_after_some_successes_and_hang(standin: Standin) -> None:
    standin.set_mode("500", after=1)
    codes = [httpx.post(standin.webhook_url(), json={"content": "x"}).status_code for _ in range(3)]
    assert codes == [204, 500, 500]
    standin.set_mode("hang", hang_seconds=5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(standin.webhook_url(), json={"content": "x"}, timeout=0.3)


def test_records_and_webhooks_survive_an_outage(standin: Standin) -> None:
    url = standin.webhook_url("200000000000000001", "outage-token")
    httpx.post(url, json={"content": "before"})
    with standin.down(), pytest.raises(httpx.ConnectError):
        httpx.post(url, json={"content": "during"})
    assert httpx.post(url, json={"content": "after"}).status_code == 204
    assert [record["body"]["content"] for record in standin.accepted()] == ["before", "after"]


@pytest.mark.parametrize(
    ("webhook", "status", "answer"),
    [
        ("300000000000000002/known-token", 404, {"message": "Unknown Webhook", "code": 10015}),
        (
            "300000000000000001/wrong-token",
            401,
            {"message": "Invalid Webhook Token", "code": 50027},
        ),
    ],
)
def test_an_unknown_webhook_or_a_wrong_token_is_refused_and_recorded(
    standin: Standin, webhook: str, status: int, answer: dict
) -> None:
    standin.webhook_url("300000000000000001", "known-token")
    standin.reset()  # the webhook stays, as it would in Discord
    response = httpx.post(f"{standin.base_url}/api/webhooks/{webhook}", json={"content": "x"})
    assert (response.status_code, response.json()) == (status, answer)
    assert [request["answer"] for request in standin.requests()] == [status]
    assert standin.accepted() == []
    known = f"{standin.base_url}/api/webhooks/300000000000000001/known-token"
    assert httpx.post(known, json={"content": "x"}).status_code == 204


def test_a_watch_sees_only_messages_accepted_after_it_and_survives_a_reset(
    standin: Standin,
) -> None:
    url = standin.webhook_url() + "?wait=true"
    httpx.post(url, json={"content": "before " + "x" * 1000}).raise_for_status()
    watch = standin.watch_accepted()
    httpx.post(url, json={"content": "refused " + "x" * 2001})
    httpx.post(url, json={"content": "first"}).raise_for_status()
    httpx.post(url, json={"content": "second"}).raise_for_status()
    first = watch.wait_for(lambda record: True, timeout=5)
    assert first["body"] == {"content": "first"}, "neither an earlier nor a refused message"
    assert first["at"] <= time.time()
    assert watch.wait_for(lambda record: True, timeout=5)["body"] == {"content": "second"}
    standin.reset()
    # More is written after the reset than the file held before it: the watch must read the
    # new file from its start, not resume at its old offset.
    sent = [f"after the reset {number}" for number in range(20)]
    for content in sent:
        httpx.post(url, json={"content": content}).raise_for_status()
    seen = [watch.wait_for(lambda record: True, timeout=5)["body"]["content"] for _ in sent]
    assert seen == sent
    with pytest.raises(TimeoutError):
        watch.wait_for(lambda record: True, timeout=0.05)


def test_a_watch_waits_for_the_file_and_for_whole_lines(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    watch = AcceptedWatch(records)
    with pytest.raises(TimeoutError):
        watch.wait_for(lambda record: True, timeout=0.01)
    line = json.dumps({"kind": "accepted", "at": 1.0, "body": {"content": "x"}}) + "\n"
    records.write_text(line + line[:10], encoding="utf-8")
    assert watch.wait_for(lambda record: True, timeout=1)["body"] == {"content": "x"}
    with pytest.raises(TimeoutError):
        watch.wait_for(lambda record: True, timeout=0.01)
    with records.open("a", encoding="utf-8") as out:
        out.write(line[10:])
    assert watch.wait_for(lambda record: True, timeout=1)["at"] == 1.0
