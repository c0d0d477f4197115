"""The contract every EventQueue implementation keeps (SQS's semantics where sensors need them).

Timing follows SQS's documented behaviour, not one emulator's: a message comes back some time
after its visibility timeout (no sub-second promise), and a short-polling receive may return
fewer messages than are visible. Tests poll with a deadline (tests/polling.py).
"""

from devkit.aws import MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_S
from tests.polling import eventually, throughout
from tests.storage.conftest import dead_letters

# Long enough that a deleted message that were to come back would have come back.
REDELIVERY_WINDOW_S = VISIBILITY_TIMEOUT_S + 2.0


def receive_again(queue, max_messages=10):
    """The next delivery: polls past the visibility timeout until a message is visible."""
    return eventually(lambda: queue.receive(max_messages), bool)


def never_comes_back(queue) -> bool:
    return throughout(lambda: queue.receive(10), lambda got: got == [], REDELIVERY_WINDOW_S) is None


def test_send_receive_delete(queue):
    message_id = queue.send('{"n": 1}')
    (message,) = receive_again(queue)
    assert (message.message_id, message.body, message.receive_count) == (message_id, '{"n": 1}', 1)
    queue.delete([message.receipt])
    assert never_comes_back(queue)


def test_a_received_message_is_hidden_then_comes_back_unless_deleted(queue):
    queue.send("at least once")
    first = receive_again(queue)
    assert queue.receive(10) == []  # hidden from other receivers meanwhile
    (again,) = receive_again(queue)
    assert again.message_id == first[0].message_id
    assert again.receive_count == 2


def test_receive_takes_many_messages_beyond_one_batch(queue):
    # Enough for SQS's receive to poll with several threads and delete in parallel batches.
    count = 60
    for index in range(count):
        queue.send(str(index))
    received, batch_sizes = {}, []

    def receive_rest():
        batch = queue.receive(count)
        # One call hands each message on once, even if two of its pollers got it.
        assert len({m.message_id for m in batch}) == len(batch)
        batch_sizes.append(len(batch))
        received.update((m.body, m) for m in batch)
        return len(received)

    # A slow call may outlast the visibility timeout: a message may come again in a later call.
    assert eventually(receive_rest, lambda got: got == count) == count
    assert sorted(int(body) for body in received) == list(range(count))
    assert max(batch_sizes) > 10  # one receive call gathers more than SQS's batch of 10
    # Each with its latest delivery's receipt, which deletes it.
    queue.delete([m.receipt for m in received.values()])
    assert never_comes_back(queue)


def test_deleting_nothing_or_an_unknown_receipt_is_harmless(queue):
    queue.delete([])
    queue.send("kept")
    receive_again(queue, 1)
    assert [m.body for m in receive_again(queue, 1)] == ["kept"]


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(queue):
    queue.send("poison")
    for _ in range(MAX_RECEIVE_COUNT):
        assert [m.body for m in receive_again(queue, 1)] == ["poison"]
    # The receive after the last allowed one moves it (SQS's redrive policy).
    assert never_comes_back(queue)
    assert eventually(lambda: dead_letters(queue), bool) == ["poison"]
