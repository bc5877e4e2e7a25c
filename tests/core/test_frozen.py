"""mockgw.core.frozen: a faster constructor, and otherwise exactly a frozen dataclass."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable, Mapping

import pytest

from mockgw.core.frozen import frozen


@frozen
class Point:
    """A class with a required field, a default and a default factory."""

    x: int
    y: int = 0
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)


@frozen
class Indexed:
    """A class with a field computed after init (init=False)."""

    names: tuple[str, ...]
    index: Mapping[str, int] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {name: i for i, name in enumerate(self.names)})


def test_positional_keyword_and_default_arguments() -> None:
    assert Point(1, 2) == Point(x=1, y=2)
    assert Point(3).y == 0
    assert Point(3).tags == {}
    assert Point(1, tags={"a": "b"}).tags == {"a": "b"}


def test_each_instance_gets_its_own_default_factory_value() -> None:
    assert Point(1).tags is not Point(1).tags


def test_missing_or_unknown_arguments_are_refused_like_a_dataclass() -> None:
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=2)  # type: ignore[call-arg]


def test_fields_cannot_be_assigned_or_added() -> None:
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.z = 3  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.x


def test_dataclass_tools_still_work() -> None:
    point = Point(1, 2)
    assert [f.name for f in dataclasses.fields(point)] == ["x", "y", "tags"]
    assert dataclasses.replace(point, y=5) == Point(1, 5)
    assert dataclasses.asdict(point) == {"x": 1, "y": 2, "tags": {}}
    assert repr(point) == "Point(x=1, y=2, tags={})"
    assert Point(1, 2) != Point(1, 3)
    assert {Indexed(("a",)), Indexed(("a",))} == {Indexed(("a",))}  # hashable, by value
    match point:
        case Point(1, y):
            assert y == 2
        case _:
            pytest.fail("positional pattern matching no longer works")


def test_equality_hash_and_repr_leave_out_what_dataclasses_leaves_out() -> None:
    assert Indexed(("a",)) == Indexed(("a",))
    assert Indexed(("a",)) != Indexed(("b",))
    assert hash(Indexed(("a",))) == hash(Indexed(("a",)))
    assert repr(Indexed(("a",))) == "Indexed(names=('a',))"  # `index` has repr=False
    assert Point(1) != (1, 0, {})  # another type is never equal
    assert Point(1).__eq__(1) is NotImplemented


def test_copies_and_pickles_round_trip() -> None:
    point = Point(1, 2, {"a": "b"})
    assert copy.copy(point) == point
    assert copy.deepcopy(point) == point
    assert pickle.loads(pickle.dumps(Indexed(("a", "b")))).index == {"a": 0, "b": 1}


def test_post_init_runs_and_init_false_fields_are_set_there() -> None:
    indexed = Indexed(("a", "b"))
    assert indexed.index == {"a": 0, "b": 1}
    assert dataclasses.replace(indexed, names=("c",)).index == {"c": 0}


@frozen
class Labelled(Point):
    """A frozen subclass of a frozen class: its own constructor, with the parent's fields first."""

    label: str = ""


def test_an_instance_is_of_its_own_class_once_made() -> None:
    # the constructor fills the slots as an instance of an open twin class, then gives the instance its class
    point, labelled, indexed = Point(1), Labelled(1, label="a"), Indexed(("a",))
    assert (type(point), type(labelled), type(indexed)) == (Point, Labelled, Indexed)
    assert labelled == Labelled(1, 0, {}, "a") and labelled != Point(1)
    assert type(copy.copy(labelled)) is Labelled and type(pickle.loads(pickle.dumps(point))) is Point
    with pytest.raises(dataclasses.FrozenInstanceError):
        labelled.label = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        indexed.names = ()  # type: ignore[misc]


class Annotated(Point):
    """A plain subclass of a frozen class (not itself @frozen), as a user may write of `mockgw.Settings`."""

    def norm(self) -> int:
        return abs(self.x) + abs(self.y)


class Slotted(Point):
    """A plain subclass without a `__dict__` (the same layout as its frozen parent)."""

    __slots__ = ()


class Built(Point):
    """A plain subclass with a constructor of its own, which calls the frozen one."""

    def __init__(self, x: int) -> None:
        super().__init__(x, y=x * 2)
        self.note = "made"  # type: ignore[misc]


@pytest.mark.parametrize(
    "make", [lambda: Annotated(1, 2), lambda: Slotted(1, 2), lambda: Built(1)], ids=["plain", "slots", "own-init"]
)
def test_a_plain_subclass_keeps_its_class_and_its_fields_stay_frozen(make: Callable[[], Point]) -> None:
    # as with dataclass(frozen=True): constructed as itself, equal only to its own class, fields refused
    made = make()
    kind = type(made)
    assert kind in (Annotated, Slotted, Built) and (made.x, made.y, made.tags) == (1, 2, {})
    assert made == make() and made != Point(1, 2)
    assert repr(made) == f"{kind.__qualname__}(x=1, y=2, tags={{}})"
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.x = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del made.y  # type: ignore[misc]


def test_a_plain_subclass_may_set_attributes_that_are_not_fields() -> None:
    built = Built(3)
    assert built.note == "made" and Annotated(1, -2).norm() == 3
    built.note = "changed"  # type: ignore[misc]
    del built.note  # type: ignore[misc]
    assert not hasattr(built, "note")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Point(1).note = "x"  # type: ignore[attr-defined]  # the frozen class itself refuses any attribute
