"""The SQLite store's DynamoDB expression evaluator on its own: parsing, refusals, update and key-condition semantics
(the behaviour shared with DynamoDB is pinned by tests/core/test_store_contract.py on both backends)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mjapi.store.backends.expressions import (
    Scope,
    check_placeholders,
    key_condition,
    parse_condition,
    parse_update,
)
from mjapi.store.backends.items import ValidationError, check_item, normalize, normalize_item


def holds(condition: str, item: dict[str, Any], vals: dict[str, Any] | None = None, names: Any = None) -> bool:
    return parse_condition(condition).holds(Scope(item, names or {}, vals or {}))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a =",
        "a = :v AND",
        "(a = :v",
        "a == :v",
        "a.b = :v",  # nested paths are not supported
        "a[0] = :v",
        "unknown_fn(a)",
        "status = :v",  # a reserved word, bare
        "a = :v extra",
        "a BETWEEN :x",
        "a IN ()",
    ],
)
def test_malformed_conditions_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_condition(text)


@pytest.mark.parametrize(
    "text",
    [
        "a = :v",  # no clause
        "SET",
        "SET a",
        "SET a = :v SET b = :w",  # a clause twice
        "DELETE s :v",  # sets are not stored
        "ADD a b",
        "REMOVE a.b",
        "SET a = :v,",
    ],
)
def test_malformed_updates_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_update(text)


def test_keywords_are_case_insensitive_and_functions_are_not() -> None:
    assert holds("a = :v and not b = :v Or c = :v", {"a": 1, "c": 1}, {":v": 1})
    assert holds("a between :x AND :y", {"a": 2}, {":x": 1, ":y": 3})
    with pytest.raises(ValidationError):
        parse_condition("ATTRIBUTE_EXISTS(a)")


def test_updates_read_the_item_before_the_update() -> None:
    update = parse_update("SET a = b, b = a ADD n :one REMOVE gone")
    scope = Scope({"a": 1, "b": 2, "n": 5, "gone": True}, {}, {":one": 1})
    assert update.apply(scope) == {"a": 2, "b": 1, "n": 6}
    assert scope.item == {"a": 1, "b": 2, "n": 5, "gone": True}  # not changed in place


def test_update_refusals() -> None:
    with pytest.raises(ValidationError, match="overlap"):
        parse_update("SET a = :v REMOVE a").apply(Scope({}, {}, {":v": 1}))
    with pytest.raises(ValidationError, match="key"):
        parse_update("SET #k = :v").apply(Scope({}, {"#k": "pk"}, {":v": "x"}), protected=("pk", "sk"))
    with pytest.raises(ValidationError, match="does not exist"):
        parse_update("SET a = b + :v").apply(Scope({}, {}, {":v": 1}))
    with pytest.raises(ValidationError):
        parse_update("SET a = list_append(a, :v)").apply(Scope({"a": "text"}, {}, {":v": [1]}))
    with pytest.raises(ValidationError):
        parse_update("ADD a :v").apply(Scope({"a": "text"}, {}, {":v": 1}))
    with pytest.raises(ValidationError, match="not defined"):
        parse_update("SET a = :missing").apply(Scope({}, {}, {}))


def test_placeholders_must_all_be_used() -> None:
    refs = list(parse_update("SET #a = :v").refs())
    check_placeholders(refs, {"#a": "a"}, {":v": 1})
    with pytest.raises(ValidationError, match="Names unused"):
        check_placeholders(refs, {"#a": "a", "#b": "b"}, {":v": 1})
    with pytest.raises(ValidationError, match="Values unused"):
        check_placeholders(refs, {"#a": "a"}, {":v": 1, ":w": 2})


def test_key_conditions() -> None:
    scope = Scope({}, {"#s": "gsi2sk"}, {":p": "DUE", ":u": "9", ":a": "1", ":b": "2"})
    assert key_condition("gsi2pk = :p", scope, "gsi2pk", "gsi2sk").sort_op is None
    resolved = key_condition("gsi2pk = :p AND #s < :u", scope, "gsi2pk", "gsi2sk")
    assert (resolved.partition, resolved.sort_op, resolved.sort_values) == ("DUE", "<", ("9",))
    between = key_condition("#s BETWEEN :a AND :b AND gsi2pk = :p", scope, "gsi2pk", "gsi2sk")
    assert (between.sort_op, between.sort_values) == ("between", ("1", "2"))
    for bad in ("gsi2sk = :p", "gsi2pk = :p OR gsi2sk = :u", "gsi2pk <> :p", "gsi2pk = :p AND other = :u"):
        with pytest.raises(ValidationError):
            key_condition(bad, scope, "gsi2pk", "gsi2sk")
    with pytest.raises(ValidationError, match="type"):
        key_condition("gsi2pk = :n", Scope({}, {}, {":n": 1}), "gsi2pk", "gsi2sk")


def test_values_are_normalised_as_a_dynamodb_round_trip() -> None:
    assert normalize_item({"a": 1.0, "b": None, "c": (1, None), "d": {"e": None, "f": 0.5}}) == {
        "a": 1,
        "c": [1, None],
        "d": {"f": 0.5},
    }
    with pytest.raises(ValidationError):
        normalize(float("nan"))
    with pytest.raises(ValidationError):
        normalize({"tags"})
    with pytest.raises(TypeError):
        normalize(object())
    with pytest.raises(ValidationError):
        check_item({"pk": "", "sk": "x"})
    with pytest.raises(ValidationError):
        check_item({"pk": "x", "sk": "y", "gsi2sk": 5})


scalars = st.one_of(st.integers(-(10**12), 10**12), st.text(max_size=8), st.booleans())


@given(scalars, scalars)
def test_comparisons_follow_dynamodb_types(a: Any, b: Any) -> None:
    item = {"a": a}
    vals = {":b": b}
    same_kind = (type(a) is bool) == (type(b) is bool) and isinstance(a, str) == isinstance(b, str)
    assert holds("a = :b", item, vals) == (same_kind and a == b)
    assert holds("a <> :b", item, vals) == (not (same_kind and a == b))
    orderable = same_kind and not isinstance(a, bool)
    assert holds("a < :b", item, vals) == (orderable and a < b)
    assert holds("a >= :b", item, vals) == (orderable and a >= b)
