"""course.reference.processes: helper processes for the parts of a training step."""
import os

import pytest

from course.reference.processes import HelperProcesses


def _square_and_pid(i):
    return i * i, os.getpid()


def _fail_on_two(i):
    if i == 2:
        raise ValueError("item 2 is not welcome")
    return i


def _exit(i):
    if i:
        os._exit(3)
    return i


def test_item_zero_runs_here_the_others_in_their_own_processes_in_order():
    helpers = HelperProcesses(_square_and_pid, 2)
    for _ in range(3):  # the same helpers serve every step
        results = helpers.map([0, 1, 2])
        assert [r for r, _ in results] == [0, 1, 4]
        pids = [pid for _, pid in results]
        assert pids[0] == os.getpid() and len(set(pids)) == 3
    assert [r for r, _ in helpers.map([5, 6])] == [25, 36]  # fewer items than helpers
    with pytest.raises(ValueError, match="4 items for 2 helper processes"):
        helpers.map([1, 2, 3, 4])


def test_an_error_in_a_helper_is_raised_here_and_the_helpers_stay_usable():
    helpers = HelperProcesses(_fail_on_two, 2)
    with pytest.raises(RuntimeError, match="item 2 is not welcome"):
        helpers.map([0, 1, 2])
    assert helpers.map([3, 4, 5]) == [3, 4, 5]


def test_a_helper_that_ended_is_an_error_not_a_hang():
    helpers = HelperProcesses(_exit, 1)
    with pytest.raises(RuntimeError, match="the helper process ended"):
        helpers.map([0, 1])
    with pytest.raises(RuntimeError, match="the helper process ended"):
        helpers.map([0, 1])


def _fail_here(i):
    if i == 0:
        raise KeyError("part zero")
    return i


def test_an_error_in_this_process_part_leaves_the_pipes_in_step():
    helpers = HelperProcesses(_fail_here, 1)
    with pytest.raises(KeyError, match="part zero"):
        helpers.map([0, 1])
    assert helpers.map([5, 6]) == [5, 6]  # not the answer 1 left over from the failed step
