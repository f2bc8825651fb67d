"""The grading boundary's data path: what crosses is plain data, anything else is a wrong answer."""
import base64
import json

import numpy as np
import pytest

from course.checks import CheckFailed, Checks, run_test
from course.grading import wire
from course.grading.bridge import StudentError, local_student
from course.grading.inert import csv_cell, inert_text, terminal_text


def roundtrip(value):
    return wire.decode(wire.encode(value))


def test_plain_data_round_trips_exactly():
    value = {"W1": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([True, False]), 3: [1, 2.5, None],
             ("a", 1): (np.float64(0.25), np.int8(-3), 1j, float("nan"), "text")}
    back = roundtrip(value)
    assert back["W1"].dtype == np.float32 and np.array_equal(back["W1"], value["W1"]) and back["W1"].flags.writeable
    assert type(back[("a", 1)][0]) is np.float64 and back[("a", 1)][1] == -3 and np.isnan(back[("a", 1)][3])
    assert back[3] == [1, 2.5, None] and back[("a", 1)][4] == "text"


def test_objects_do_not_cross():
    assert roundtrip(object()) == wire.Opaque("object")
    assert isinstance(roundtrip(np.array(["a"], dtype=object)), wire.Opaque)


def hostile(plain):
    return base64.b64encode(json.dumps(plain).encode()).decode()


@pytest.mark.parametrize("plain", [
    {"nd": ["O8", [1], "AAAAAAAAAAA="]},                    # object dtype
    {"nd": ["f8", [1000, 1000], "AAAAAAAAAAA="]},           # bytes do not match the shape
    {"nd": ["f8", [-1], ""]},                               # negative size
    {"zz": 1},                                              # unknown tag
    {"di": [[[1, 2], 3]]},                                  # unhashable key
])
def test_malformed_answers_are_refused(plain):
    with pytest.raises(wire.WireError):
        wire.decode(hostile(plain))


def test_budget_bounds_size_and_items_before_building_them():
    with pytest.raises(wire.WireError):
        wire.decode(wire.encode(np.zeros(1000)), wire.Budget(max_bytes=1000))
    with pytest.raises(wire.WireError):
        wire.decode(wire.encode([[] for _ in range(5000)]), wire.Budget(max_items=1000))
    with pytest.raises(wire.WireError):
        wire.decode("not base64 !")


class Liar:
    """Claims to equal anything and to be any number: it must never pass a check."""

    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.5

    def __array__(self, *args, **kwargs):
        return np.array(0.5)

    def __add__(self, other):
        return 1.0


def test_an_object_where_a_value_is_expected_is_a_wrong_answer():
    student = local_student({"sigmoid": lambda z: Liar()})
    with pytest.raises(CheckFailed, match="returned a Liar object"):
        student.sigmoid(0.0)


def test_errors_timeouts_and_missing_names_are_student_errors():
    student = local_student({"boom": lambda: 1 / 0, "leave": lambda: exit(3)})
    with pytest.raises(StudentError, match="ZeroDivisionError"):
        student.boom()
    with pytest.raises(StudentError, match="SystemExit"):
        student.leave()
    with pytest.raises(StudentError, match="NameError"):
        student.nothing_here(1)


def test_map_makes_many_calls_in_one_round_trip():
    sent = []
    student = local_student({"scale": lambda x, k=1: np.asarray(x) * k, "boom": lambda x: 1 / x,
                             "sneaky": lambda x: Liar()})
    send = student._transport.send
    student._transport.send = lambda text, what: sent.append(what) or send(text, what)
    got = student.scale.map([((np.arange(3.0),), {"k": k}) for k in range(4)])
    assert len(sent) == 1 and [list(g) for g in got] == [[0, 0, 0], [0, 1, 2], [0, 2, 4], [0, 3, 6]]
    with pytest.raises(StudentError, match="ZeroDivisionError"):
        student.boom.map([((1.0,), {}), ((0,), {})])
    with pytest.raises(CheckFailed, match="returned a container holding objects"):
        student.sneaky.map([((1.0,), {})])
    with pytest.raises(StudentError, match="NameError"):
        student.nothing_here.map([((1,), {})])


def test_pure_detects_mutation_and_return_args_shows_it():
    def relu_in_place(z):
        z[z < 0] = 0
        return z
    student = local_student({"relu": relu_in_place})
    with pytest.raises(CheckFailed, match="modified its argument 1"):
        student.relu.pure(np.array([-1.0, 2.0]))
    value, args, _ = student.relu.call([np.array([-1.0, 2.0])], return_args=True)
    assert np.array_equal(args[0], [0.0, 2.0]) and np.array_equal(value, [0.0, 2.0])


def test_strict_calls_raise_on_overflow_in_the_students_code():
    student = local_student({"sigmoid": lambda z: 1 / (1 + np.exp(-z))})
    with pytest.raises(StudentError, match="FloatingPointError"):
        student.sigmoid.strict(np.array([-1000.0]))


def test_remote_objects_only_give_back_data():
    from course.reference.autodiff import Value
    student = local_student({"Value": Value})
    x, y = student.Value.remote(2.0), student.Value.remote(3.0)
    f = x * y + x
    f.call("backward")
    assert f.get("data") == 8.0 and x.get("grad") == 4.0 and y.get("grad") == 2.0


def test_new_objects_travel_with_the_next_request_and_their_errors_come_back_named():
    from course.reference.autodiff import Value

    class Broken(Value):
        def __mul__(self, other):
            raise ZeroDivisionError("no products here")

    sent = []
    student = local_student({"Value": Value, "Broken": Broken})
    send = student._transport.send
    student._transport.send = lambda text, what: sent.append(what) or send(text, what)
    x, y = student.Value.remote(2.0), student.Value.remote(3.0)
    f = x * y + x
    assert sent == [] and x.type_name == "Value"  # nothing has crossed yet
    f.call("backward")  # one round trip: two Values, two operators, backward
    assert len(sent) == 1 and "operator mul" in sent[0] and f.type_name == "Value"
    assert f.get("data") == 8.0 and x.get("grad") == 4.0
    b = student.Broken.remote(1.0)
    with pytest.raises(StudentError, match=r"^operator mul raised ZeroDivisionError: no products here"):
        (b * 2).get("data")
    with pytest.raises(StudentError, match="^Missing raised NameError"):
        student.Missing.remote(1.0).get("data")
    assert student.Value.remote(5.0).get("data") == 5.0  # a failed batch leaves nothing queued


def test_a_check_that_raises_anything_fails_with_a_message_and_hints_at_dependencies():
    checks = Checks("demo")

    @checks.test("test_a")
    def _(student, rng):
        raise AssertionError("a is wrong")

    @checks.test("test_b", needs=["test_a"])
    def _(student, rng):
        return student.b()["missing"]  # a KeyError in the check's own code: still a fail, never a pass

    student = local_student({"b": lambda: {}})
    first = run_test(checks, "test_a", student)
    second = run_test(checks, "test_b", student, earlier={"test_a": first})
    assert not first.passed and first.message == "a is wrong"
    assert not second.passed and "KeyError" in second.message and "fix test_a first" in second.message


def test_inert_text_for_terminal_csv_and_notebooks():
    assert "\x1b" not in terminal_text("\x1b]0;pwned\x07red\nline") and "\\n" in terminal_text("a\nb")
    assert inert_text("\x1b[31mred\x1b[0m", keep_ansi=True) == "\x1b[31mred\x1b[0m"
    assert "\x1b[2J" not in inert_text("\x1b[2Jclear", keep_ansi=True)
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_cell(-1.5) == -1.5
    assert len(inert_text("x" * 10_000, 100)) < 200
