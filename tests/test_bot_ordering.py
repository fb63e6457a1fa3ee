"""The chat-order update processor (bot/ordering.py), driven the way PTB drives it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from telegram import Chat, Message, Update

from bot.ordering import ChatOrderProcessor


def update(update_id: int, chat_id: int) -> Update:
    message = Message(update_id, datetime.now(timezone.utc), Chat(chat_id, Chat.PRIVATE), text=f"m{update_id}")
    return Update(update_id, message=message)


async def handled(done: list[int], update_id: int, delay: float = 0.0, gate: asyncio.Event | None = None) -> None:
    if gate is not None:
        await gate.wait()
    await asyncio.sleep(delay)
    done.append(update_id)


async def test_a_chats_updates_are_handled_in_the_order_they_came() -> None:
    processor, done = ChatOrderProcessor(8), []
    # The first takes longest: run concurrently, it would finish last.
    await asyncio.gather(*(processor.process_update(update(i, 1), handled(done, i, delay))
                           for i, delay in ((1, 0.05), (2, 0.01), (3, 0.0))))
    assert done == [1, 2, 3]


async def test_other_chats_are_not_held_up_and_queued_updates_take_no_slot() -> None:
    processor, done, gate = ChatOrderProcessor(2), [], asyncio.Event()
    busy = [asyncio.create_task(processor.process_update(update(1, 1), handled(done, 1, gate=gate)))]
    busy += [asyncio.create_task(processor.process_update(update(i, 1), handled(done, i))) for i in range(2, 7)]
    await asyncio.sleep(0.01)
    assert processor.waiting == 5 and processor.current_concurrent_updates == 1
    # Two slots, five updates of chat 1 waiting: chat 2 still gets the free one.
    await asyncio.wait_for(processor.process_update(update(7, 2), handled(done, 7)), timeout=1)
    assert done == [7]
    gate.set()
    await asyncio.gather(*busy)
    assert done == [7, 1, 2, 3, 4, 5, 6] and processor.waiting == 0


async def test_a_failing_update_does_not_stop_its_chats_next_ones() -> None:
    processor, done = ChatOrderProcessor(4), []

    async def fails() -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError("handler bug")

    await asyncio.gather(processor.process_update(update(1, 1), fails()),
                         processor.process_update(update(2, 1), handled(done, 2)))
    assert done == [2]


async def test_updates_without_a_chat_run_at_once() -> None:
    processor, done, gate = ChatOrderProcessor(4), [], asyncio.Event()
    blocked = asyncio.create_task(processor.process_update(update(1, 1), handled(done, 1, gate=gate)))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(processor.process_update(object(), handled(done, 2)), timeout=1)
    assert done == [2]
    gate.set()
    await blocked


async def test_shutting_down_closes_what_is_still_queued() -> None:
    processor, done, gate = ChatOrderProcessor(4), [], asyncio.Event()
    first = asyncio.create_task(processor.process_update(update(1, 1), handled(done, 1, gate=gate)))
    await asyncio.sleep(0.01)
    queued = handled(done, 2)
    await processor.process_update(update(2, 1), queued)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert done == [] and queued.cr_frame is None  # closed, not left to warn "never awaited"
    assert processor.waiting == 0
