"""The memory of delivered parts: keyed right, bounded, expiring, one delivery at a time."""

from __future__ import annotations

import asyncio

from discord_relay.dedup import DeliveredParts, notification_key, part_key
from discord_relay.messages import encode_message
from discord_relay.payloads import AlertmanagerNotification
from testkit.alertmanager import webhook_alert, webhook_payload


def key_of(payload: dict) -> str:
    return notification_key(AlertmanagerNotification.model_validate(payload), "alertmanager")


def test_the_same_notification_retried_has_the_same_key_in_any_alert_order() -> None:
    alerts = [webhook_alert("A", labels={"i": "1"}), webhook_alert("A", labels={"i": "2"})]
    assert key_of(webhook_payload(alerts)) == key_of(webhook_payload(alerts[::-1]))


def test_a_changed_status_alert_set_or_time_is_a_different_notification() -> None:
    base = webhook_payload([webhook_alert("A")])
    resolved = webhook_payload([webhook_alert("A", status="resolved")])
    more = webhook_payload([webhook_alert("A"), webhook_alert("A", labels={"i": "2"})])
    later = webhook_payload([webhook_alert("A", startsAt="2026-11-24T00:00:00Z")])
    other_group = webhook_payload([webhook_alert("A")], group_key="{}:{x}")
    keys = {key_of(p) for p in (base, resolved, more, later, other_group)}
    assert len(keys) == 5


def test_part_keys_differ_by_index_and_content() -> None:
    x, y = encode_message({"content": "x"}), encode_message({"content": "y"})
    assert part_key("n", 0, x) != part_key("n", 1, x)
    assert part_key("n", 0, x) != part_key("n", 0, y)
    assert part_key("n", 0, x) == part_key("n", 0, encode_message({"content": "x"}))
    # The fields are separated: no other notification, index and body give the same bytes.
    assert part_key("n", 10, x) != part_key("n1", 0, x)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_parts_are_forgotten_after_the_ttl() -> None:
    clock = Clock()
    memory = DeliveredParts(ttl=60, max_entries=100, clock=clock)
    memory.remember("p1")
    clock.now += 30
    memory.remember("p2")
    assert "p1" in memory and "p2" in memory
    clock.now += 31
    assert "p1" not in memory
    assert "p2" in memory
    clock.now += 30
    assert len(memory) == 0


def test_the_memory_is_bounded_and_drops_the_oldest() -> None:
    memory = DeliveredParts(ttl=60, max_entries=3, clock=Clock())
    for part in ("a", "b", "c", "d"):
        memory.remember(part)
    assert [part in memory for part in "abcd"] == [False, True, True, True]


async def test_deliveries_of_one_notification_take_turns_and_others_do_not_wait() -> None:
    memory = DeliveredParts(ttl=60, max_entries=10)
    order: list[str] = []
    first_inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with memory.exclusive("n1"):
            order.append("first in")
            first_inside.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        await first_inside.wait()
        async with memory.exclusive("n1"):
            order.append("second in")

    async def other() -> None:
        await first_inside.wait()
        async with memory.exclusive("n2"):
            order.append("other in")
        release.set()

    await asyncio.gather(first(), second(), other())
    assert order == ["first in", "other in", "first out", "second in"]
    assert memory._locks == {}, "locks of finished notifications are not kept"


async def test_a_delivery_cancelled_while_waiting_its_turn_leaves_no_lock_behind() -> None:
    memory = DeliveredParts(ttl=60, max_entries=10)
    inside = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with memory.exclusive("n1"):
            inside.set()
            await release.wait()

    async def waiter() -> None:
        async with memory.exclusive("n1"):
            raise AssertionError("a cancelled waiter never gets in")

    holding = asyncio.create_task(holder())
    await inside.wait()
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    assert memory._locks["n1"].holders == 2, "the waiter is waiting its turn"
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert memory._locks["n1"].holders == 1, "the cancelled waiter is no longer counted"
    release.set()
    await holding
    assert memory._locks == {}
