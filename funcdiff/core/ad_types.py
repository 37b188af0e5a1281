"""Markers the autodiff rules and transforms share.

``Zero(aval)`` is a symbolic zero tangent or cotangent: rules skip work for it and it
never becomes an array unless something needs one.  ``UndefPrimal(aval)`` marks a linear
input while transposing: its value is what the transpose computes a cotangent for.
"""
from __future__ import annotations


class Zero:
    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"Zero({self.aval.str_short()})"


class UndefPrimal:
    __slots__ = ("aval",)

    def __init__(self, aval):
        self.aval = aval

    def __repr__(self):
        return f"UndefPrimal({self.aval.str_short()})"


def is_undefined(x) -> bool:
    return type(x) is UndefPrimal
