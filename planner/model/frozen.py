"""The immutable-record behaviour that :class:`~planner.model.site.Site` and
:class:`~planner.model.assumptions.Assumptions` share: fields read as attributes from a
``_values`` dict, never set (changes go through ``replace``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar


class FrozenValues:
    """Mixin for a slotted class holding its fields in ``self._values``."""

    __slots__ = ()
    _values: dict[str, Any]
    #: the message of the AttributeError raised on assignment (names the type and how to change it)
    _IMMUTABLE_MESSAGE: ClassVar[str] = "immutable; use replace(...)"

    if not TYPE_CHECKING:  # the type checker sees each class's typed fields, so a misspelt field is an error
        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):  # an unset slot or a protocol probe (copy, pickle): never a field
                raise AttributeError(name)
            try:
                return self._values[name]
            except KeyError:
                raise AttributeError(name) from None

    def _slot_names(self) -> list[str]:
        return [n for cls in type(self).__mro__ for n in getattr(cls, "__slots__", ())]

    def __getstate__(self) -> dict[str, Any]:
        """Every slot's value: copy.deepcopy and pickle rebuild the record without :meth:`__setattr__`."""
        return {n: object.__getattribute__(self, n) for n in self._slot_names()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(self._IMMUTABLE_MESSAGE)
