"""course.reference.threads: the reference trainers' one pool of helper threads."""
import threading

import pytest

from course.reference.threads import in_threads


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_results_come_back_in_order(threads):
    items = list(range(11))
    assert in_threads(lambda i: i * i, items, threads) == [i * i for i in items]


def test_items_run_on_that_many_threads():
    """Two items on two threads run at the same time: each waits for the other at a barrier
    (one thread would wait for ever; the barrier's timeout turns that into a failure)."""
    barrier = threading.Barrier(2, timeout=10)

    def meet(_):
        barrier.wait()
        return threading.get_ident()

    first, second = in_threads(meet, [0, 1], 2)
    assert first == threading.get_ident() and second != first


def test_an_item_that_raises_raises_in_the_caller():
    def fail_on_three(i):
        if i == 3:
            raise ValueError("item 3")
        return i

    with pytest.raises(ValueError, match="item 3"):
        in_threads(fail_on_three, list(range(6)), 2)
    assert in_threads(lambda i: i, [], 2) == []
