"""`@frozen`: mockgw's data classes. A frozen dataclass with slots, cheaper to make and to build instances of.

Why: every request builds a dozen or more of them (the messages, the conversation, the reply, the outcome...),
and a process start creates about 75 classes. `dataclass(frozen=True)` writes six methods with one `exec` each
(about half of mockgw's own import time), and its `__init__` sets each field through `object.__setattr__`
(docs/bench.md has the measurements).

Here dataclasses still collects the fields and makes the slots (so `fields()`, `replace()`, `asdict()`,
`__match_args__` and pattern matching work as usual); `__repr__`, `__eq__`, `__hash__` and the frozen
`__setattr__`/`__delattr__` are shared functions that behave like the ones dataclasses would write (fields with
`compare=False`/`repr=False` left out the same way; assigning a field raises FrozenInstanceError).

`__init__` is generated with one `exec`. It fills the slots as an instance of an open twin of the class (the same
slots, no refusing `__setattr__`), then makes the instance what it is: `self.x = x` on the twin is Python's own
fast slot store, where calling each slot's setter costs a call per field (about 5 % of a request's CPU, with the
dozen objects every request makes; docs/bench.md). An instance of a plain subclass (one not itself @frozen, such as a
user's subclass of `mockgw.Settings`) is filled past the frozen `__setattr__` instead and keeps its class; such a
subclass refuses only the fields, as with dataclasses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")
_NO_VALUE = object()  # stands for "not given" where a field has a default_factory


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def frozen(cls: type[T]) -> type[T]:
    """Make `cls` a frozen, slotted dataclass (same signature and behaviour as `dataclass(frozen=True)`)."""
    undocumented = not cls.__doc__
    if undocumented:
        # dataclasses would write a docstring from inspect.signature(cls), which for a class without __init__ yet
        # parses object's text signature with tokenize: compiling tokenize's regular expressions, ~1.5 ms of a
        # server's start-up; the docstring is written below from the fields instead
        cls.__doc__ = cls.__qualname__
    made: type[T] = dataclasses.dataclass(init=False, repr=False, eq=False, slots=True)(cls)
    fields = dataclasses.fields(made)  # type: ignore[arg-type]
    if undocumented:
        made.__doc__ = f"{made.__name__}({', '.join(f.name for f in fields if f.init)})"
    compared = tuple(f.name for f in fields if f.compare)
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    methods: dict[str, Any] = {
        "__repr__": _repr,
        "__eq__": _eq,
        "__hash__": _hash,
        "__setattr__": _setattr,
        "__delattr__": _delattr,
        "__getstate__": _getstate,
        "__setstate__": _setstate,
        "_frozen_shown": tuple(f.name for f in fields if f.repr),
        "_frozen_compared": _values_of(compared),
        "_frozen_hashed": _values_of(hashed),
        "_frozen_all": _values_of(tuple(f.name for f in fields)),
        "_frozen_fields": frozenset(f.name for f in fields),
    }
    for name, value in methods.items():
        setattr(made, name, value)
    made.__init__ = _LazyInit(made, fields)  # type: ignore[assignment,method-assign]  # generated on first use
    return made


def _values_of(names: tuple[str, ...]) -> staticmethod[[Any], tuple[Any, ...]]:
    """The fields `names` of an object as a tuple, as dataclasses' generated __eq__ and __hash__ compare them."""
    if len(names) > 1:
        return staticmethod(attrgetter(*names))
    if names:
        get = attrgetter(names[0])
        return staticmethod(lambda obj: (get(obj),))
    return staticmethod(lambda obj: ())


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._frozen_shown)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented  # type: ignore[no-any-return]  # as dataclasses' __eq__: let Python try the other side
    return bool(self._frozen_compared(self) == self._frozen_compared(other))


def _hash(self: Any) -> int:
    return hash(self._frozen_hashed(self))


def _setattr(self: Any, name: str, value: Any) -> None:
    if _refuses(type(self), name):
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _delattr(self: Any, name: str) -> None:
    if _refuses(type(self), name):
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


def _refuses(cls: type, name: str) -> bool:
    # as dataclasses' frozen __setattr__: a @frozen class refuses every attribute; a plain subclass of one (not
    # itself @frozen, so without its own `_frozen_fields`) refuses only the fields
    return "_frozen_fields" in cls.__dict__ or name in cls._frozen_fields  # type: ignore[attr-defined]


def _getstate(self: Any) -> tuple[Any, ...]:  # copy and pickle: slots have no __dict__
    return self._frozen_all(self)  # type: ignore[no-any-return]


def _setstate(self: Any, state: tuple[Any, ...]) -> None:
    for field, value in zip(dataclasses.fields(self), state, strict=True):
        object.__setattr__(self, field.name, value)


def _open_twin(cls: type) -> type:
    """A subclass of `cls` with the same slots and the default `__setattr__`: an instance of `cls` is made as one
    (its fields set by plain stores), then given its class. `object`'s own methods in the class body give the twin
    CPython's generic attribute store itself, which the interpreter specialises for slots."""
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,  # both: CPython has one slot for setting and deleting
        "__qualname__": f"{cls.__qualname__}.<open>",
    }
    return type(cls)(cls.__name__, (cls,), namespace)


_SET_CLASS = object.__dict__["__class__"].__set__  # turns an instance into its open twin past the frozen __setattr__


class _LazyInit:
    """A class's `__init__` until it is first looked up (to make an instance, or by `inspect.signature`...): then the
    generated one (with the class's open twin) replaces it on the class, and is what that lookup gets.

    Why: generating `__init__` (an `exec`, and the twin: a second class) is most of what `@frozen` costs, and a
    server's start-up defines ~90 classes, most of which no request before the first answer (or none) instantiates.
    """

    __slots__ = ("cls", "fields")

    def __init__(self, cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> None:
        self.cls = cls
        self.fields = fields

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        init: Any = self.cls.__dict__.get("__init__")
        if init is self:  # not generated yet (two threads may both generate it: equivalent functions, harmlessly)
            init = _fast_init(self.cls, self.fields)
            type.__setattr__(self.cls, "__init__", init)
        return init.__get__(obj, owner)


def _fast_init(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    # Generated like dataclasses generates its own __init__ (same parameters, defaults and factories); the fields
    # are stored while the instance is of the open twin (_open_twin), which the branch's last line undoes.
    env: dict[str, Any] = {
        "_NO_VALUE": _NO_VALUE,
        "_set_class": _SET_CLASS,
        "_open": _open_twin(cls),
        "_cls": cls,
        "_store": object.__setattr__,
    }
    params: list[str] = []
    stores: list[tuple[str, str]] = []  # (field, the expression of its value)
    for f in fields:
        value = f.name
        if f.default_factory is not dataclasses.MISSING:
            env[f"_factory_{f.name}"] = f.default_factory
            value = f"_factory_{f.name}() if {f.name} is _NO_VALUE else {f.name}"
            if f.init:
                params.append(f"{f.name}=_NO_VALUE")
            else:
                value = f"_factory_{f.name}()"
        elif f.default is not dataclasses.MISSING:
            env[f"_default_{f.name}"] = f.default
            if f.init:
                params.append(f"{f.name}=_default_{f.name}")
            else:
                value = f"_default_{f.name}"
        elif f.init:
            params.append(f.name)
        else:
            continue  # no value to give it: __post_init__ sets it
        stores.append((f.name, value))
    source = "\n".join(
        [
            f"def __init__(self, {', '.join(params)}):",
            "    if self.__class__ is _cls:",
            "        _set_class(self, _open)",
            *(f"        self.{name} = {value}" for name, value in stores),
            "        self.__class__ = _cls",  # frozen from here on, __post_init__ included
            # an instance of a subclass that is not itself @frozen (so has no constructor of its own, or calls this
            # one through super()): it keeps its class, and each field is stored past the frozen __setattr__
            "    else:",
            *(f"        _store(self, {name!r}, {value})" for name, value in stores),
            *([] if stores else ["        pass"]),
            *(["    self.__post_init__()"] if hasattr(cls, "__post_init__") else []),
        ]
    )
    exec(source, env)  # built from field names only, as dataclasses does
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
