"""The contract every EventQueue implementation keeps (SQS's semantics where sensors need them)."""

import time

from tests.aws import MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_S
from tests.storage.conftest import dead_letters


def test_send_receive_delete(queue):
    message_id = queue.send('{"n": 1}')
    (message,) = queue.receive(10)
    assert (message.message_id, message.body, message.receive_count) == (message_id, '{"n": 1}', 1)
    queue.delete([message.receipt])
    time.sleep(VISIBILITY_TIMEOUT_S + 0.2)
    assert queue.receive(10) == []


def test_a_received_message_is_hidden_then_comes_back_unless_deleted(queue):
    queue.send("at least once")
    first = queue.receive(10)
    assert queue.receive(10) == []  # hidden from other receivers meanwhile
    time.sleep(VISIBILITY_TIMEOUT_S + 0.2)
    (again,) = queue.receive(10)
    assert again.message_id == first[0].message_id
    assert again.receive_count == 2


def test_receive_takes_many_messages_beyond_one_batch(queue):
    for index in range(25):
        queue.send(str(index))
    received = queue.receive(25)
    assert sorted(int(m.body) for m in received) == list(range(25))
    queue.delete([m.receipt for m in received])
    assert queue.receive(5) == []


def test_deleting_nothing_or_an_unknown_receipt_is_harmless(queue):
    queue.delete([])
    queue.send("kept")
    queue.receive(1)
    time.sleep(VISIBILITY_TIMEOUT_S + 0.2)
    assert [m.body for m in queue.receive(1)] == ["kept"]


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(queue):
    queue.send("poison")
    for _ in range(MAX_RECEIVE_COUNT):
        assert [m.body for m in queue.receive(1)] == ["poison"]
        time.sleep(VISIBILITY_TIMEOUT_S + 0.2)
    assert queue.receive(1) == []
    assert dead_letters(queue) == ["poison"]
