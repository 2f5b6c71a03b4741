"""DynamoDB expressions - the subset mjapi's store modules write - parsed once and evaluated on plain items.

Conditions (and filters)::

    cond    := and ('OR' and)*          and := not ('AND' not)*          not := 'NOT' not | primary
    primary := '(' cond ')' | attribute_exists(path) | attribute_not_exists(path) | begins_with(path, op)
             | contains(path, op) | op comparator op | op BETWEEN op AND op | op IN '(' op (',' op)* ')'
    op      := path | :value | size(path)                comparator := = | <> | < | <= | > | >=

Updates: ``SET path = value (, ...)``, ``REMOVE path (, ...)``, ``ADD path :value (, ...)``, each clause at most once,
where ``value := term (('+' | '-') term)?`` and ``term := path | :value | if_not_exists(path, term) |
list_append(term, term)``. Key conditions: ``hash = :v [AND sort (=|<|<=|>|>=) :v | sort BETWEEN :a AND :b |
begins_with(sort, :v)]``.

A path is one top-level attribute (``name`` or ``#name``): mjapi stores nested documents whole and never writes into
them, so nested paths are refused rather than half-supported. Semantics follow DynamoDB: comparisons across types
are false (``<>`` is true), reserved words must be ``#names``, all SET values read the item as it was before the
update, one path per action, unused ``ExpressionAttributeNames``/``Values`` are an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

from mjapi.store.backends.items import ValidationError, equal, number, orderable, type_of
from mjapi.store.backends.reserved_words import RESERVED_WORDS

_MISSING: Final = object()

_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op><>|<=|>=|=|<|>|\+|-|\(|\)|,|\.|\[|\]))"
)
_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_CONDITION_FUNCTIONS = frozenset({"attribute_exists", "attribute_not_exists", "begins_with", "contains"})
_KEYWORDS = frozenset({"and", "or", "not", "between", "in", "set", "remove", "add", "delete"})


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValidationError(f"invalid expression near {text[pos : pos + 20]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class Scope:
    """The names and values an expression's placeholders stand for, and the item it reads."""

    def __init__(self, item: Mapping[str, Any], names: Mapping[str, str], values: Mapping[str, Any]) -> None:
        self.item = item
        self.names = names
        self.values = values

    def attribute(self, ref: str) -> str:
        if not ref.startswith("#"):
            return ref
        try:
            return self.names[ref]
        except KeyError:
            raise ValidationError(f"An expression attribute name used is not defined: {ref}") from None

    def value(self, ref: str) -> Any:
        try:
            return self.values[ref]
        except KeyError:
            raise ValidationError(f"An expression attribute value used in expression is not defined: {ref}") from None


# -- operands -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    ref: str  # ``name`` or ``#placeholder``

    def read(self, scope: Scope) -> Any:
        return scope.item.get(scope.attribute(self.ref), _MISSING)

    def refs(self) -> Iterator[str]:
        if self.ref.startswith("#"):
            yield self.ref


@dataclass(frozen=True)
class Value:
    ref: str

    def read(self, scope: Scope) -> Any:
        return scope.value(self.ref)

    def refs(self) -> Iterator[str]:
        yield self.ref


@dataclass(frozen=True)
class Size:
    path: Path

    def read(self, scope: Scope) -> Any:
        value = self.path.read(scope)
        if isinstance(value, str | list | dict):
            return len(value.encode("utf-8")) if isinstance(value, str) else len(value)
        return _MISSING

    def refs(self) -> Iterator[str]:
        return self.path.refs()


@dataclass(frozen=True)
class IfNotExists:
    path: Path
    default: Operand

    def read(self, scope: Scope) -> Any:
        value = self.path.read(scope)
        return self.default.read(scope) if value is _MISSING else value

    def refs(self) -> Iterator[str]:
        yield from self.path.refs()
        yield from self.default.refs()


@dataclass(frozen=True)
class ListAppend:
    first: Operand
    second: Operand

    def read(self, scope: Scope) -> Any:
        a, b = _present(self.first.read(scope)), _present(self.second.read(scope))
        if not isinstance(a, list) or not isinstance(b, list):
            raise ValidationError("Incorrect operand type for operator or function; operator or function: list_append")
        return [*a, *b]

    def refs(self) -> Iterator[str]:
        yield from self.first.refs()
        yield from self.second.refs()


@dataclass(frozen=True)
class Arithmetic:
    op: str
    left: Operand
    right: Operand

    def read(self, scope: Scope) -> Any:
        a, b = _present(self.left.read(scope)), _present(self.right.read(scope))
        if type_of(a) != "N" or type_of(b) != "N":
            raise ValidationError(f"Incorrect operand type for operator or function; operator: {self.op}")
        return _add(a, b if self.op == "+" else _negate(b))

    def refs(self) -> Iterator[str]:
        yield from self.left.refs()
        yield from self.right.refs()


Operand = Path | Value | Size | IfNotExists | ListAppend | Arithmetic


def _present(value: Any) -> Any:
    if value is _MISSING:
        raise ValidationError("The provided expression refers to an attribute that does not exist in the item")
    return value


def _negate(value: int | float) -> int | float:
    return -value


def _add(a: int | float, b: int | float) -> int | float:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return number(Decimal(repr(a)) + Decimal(repr(b)))  # DynamoDB adds decimals, not binary floats


# -- conditions ---------------------------------------------------------------------------------------------------


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return op == "<>"
    if op == "=":
        return equal(a, b)
    if op == "<>":
        return not equal(a, b)
    if not orderable(a, b):
        return False
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


@dataclass(frozen=True)
class Compare:
    op: str
    left: Operand
    right: Operand

    def holds(self, scope: Scope) -> bool:
        return _compare(self.op, self.left.read(scope), self.right.read(scope))

    def refs(self) -> Iterator[str]:
        yield from self.left.refs()
        yield from self.right.refs()


@dataclass(frozen=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand

    def holds(self, scope: Scope) -> bool:
        value = self.operand.read(scope)
        return _compare(">=", value, self.low.read(scope)) and _compare("<=", value, self.high.read(scope))

    def refs(self) -> Iterator[str]:
        yield from self.operand.refs()
        yield from self.low.refs()
        yield from self.high.refs()


@dataclass(frozen=True)
class In:
    operand: Operand
    options: tuple[Operand, ...]

    def holds(self, scope: Scope) -> bool:
        value = self.operand.read(scope)
        return value is not _MISSING and any(_compare("=", value, o.read(scope)) for o in self.options)

    def refs(self) -> Iterator[str]:
        yield from self.operand.refs()
        for option in self.options:
            yield from option.refs()


@dataclass(frozen=True)
class Function:
    name: str
    path: Path
    argument: Operand | None = None

    def holds(self, scope: Scope) -> bool:
        value = self.path.read(scope)
        if self.name == "attribute_exists":
            return value is not _MISSING
        if self.name == "attribute_not_exists":
            return value is _MISSING
        assert self.argument is not None
        wanted = self.argument.read(scope)
        if value is _MISSING or wanted is _MISSING:
            return False
        if self.name == "begins_with":
            return isinstance(value, str) and isinstance(wanted, str) and value.startswith(wanted)
        if isinstance(value, str):  # contains
            return isinstance(wanted, str) and wanted in value
        if isinstance(value, list):
            return any(equal(element, wanted) for element in value)
        return False

    def refs(self) -> Iterator[str]:
        yield from self.path.refs()
        if self.argument is not None:
            yield from self.argument.refs()


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Condition
    right: Condition

    def holds(self, scope: Scope) -> bool:
        if self.op == "and":
            return self.left.holds(scope) and self.right.holds(scope)
        return self.left.holds(scope) or self.right.holds(scope)

    def refs(self) -> Iterator[str]:
        yield from self.left.refs()
        yield from self.right.refs()


@dataclass(frozen=True)
class Not:
    inner: Condition

    def holds(self, scope: Scope) -> bool:
        return not self.inner.holds(scope)

    def refs(self) -> Iterator[str]:
        return self.inner.refs()


Condition = Compare | Between | In | Function | Logical | Not


# -- updates ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    sets: tuple[tuple[Path, Operand], ...]
    removes: tuple[Path, ...]
    adds: tuple[tuple[Path, Value], ...]

    def refs(self) -> Iterator[str]:
        for path, operand in self.sets:
            yield from path.refs()
            yield from operand.refs()
        for path in self.removes:
            yield from path.refs()
        for path, value in self.adds:
            yield from path.refs()
            yield from value.refs()

    def apply(self, scope: Scope, protected: tuple[str, ...] = ()) -> dict[str, Any]:
        """The item after the update; every value reads the item as it was before."""
        touched: set[str] = set()

        def target(path: Path) -> str:
            name = scope.attribute(path.ref)
            if name in touched:
                raise ValidationError(f"Two document paths overlap with each other: {name}")
            if name in protected:
                raise ValidationError(f"Cannot update attribute {name}. This attribute is part of the key")
            touched.add(name)
            return name

        new = dict(scope.item)
        for path, operand in self.sets:
            name = target(path)
            new[name] = _present(operand.read(scope))  # values and items are normalised already
        for path in self.removes:
            new.pop(target(path), None)
        for path, value in self.adds:
            name = target(path)
            amount = value.read(scope)
            current = scope.item.get(name, _MISSING)
            if type_of(amount) != "N" or (current is not _MISSING and type_of(current) != "N"):
                raise ValidationError("An operand in the update expression has an incorrect data type (ADD numbers)")
            new[name] = amount if current is _MISSING else _add(current, amount)
        return new


# -- the parser ---------------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def error(self, what: str) -> ValidationError:
        near = " ".join(t for _k, t in self.tokens[self.pos : self.pos + 4]) or "the end"
        return ValidationError(f"invalid expression {self.text!r}: {what} near {near!r}")

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "ident" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def punct(self, symbol: str) -> bool:
        token = self.peek()
        if token == ("op", symbol):
            self.pos += 1
            return True
        return False

    def expect(self, symbol: str) -> None:
        if not self.punct(symbol):
            raise self.error(f"expected {symbol!r}")

    def done(self) -> None:
        if self.pos != len(self.tokens):
            raise self.error("unexpected token")

    def is_call(self, names: frozenset[str]) -> str | None:
        token, following = self.peek(), self.peek(1)
        if token is not None and token[0] == "ident" and token[1] in names and following == ("op", "("):
            return token[1]
        return None

    # conditions

    def condition(self) -> Condition:
        left = self.conjunction()
        while self.keyword("or"):
            left = Logical("or", left, self.conjunction())
        return left

    def conjunction(self) -> Condition:
        left = self.negation()
        while self.keyword("and"):
            left = Logical("and", left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.keyword("not"):
            return Not(self.negation())
        return self.primary()

    def primary(self) -> Condition:
        if self.punct("("):
            inner = self.condition()
            self.expect(")")
            return inner
        function = self.is_call(_CONDITION_FUNCTIONS)
        if function is not None:
            self.pos += 2
            path = self.path()
            argument: Operand | None = None
            if function in ("begins_with", "contains"):
                self.expect(",")
                argument = self.operand()
            self.expect(")")
            return Function(function, path, argument)
        left = self.operand()
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in _COMPARATORS:
            self.pos += 1
            return Compare(token[1], left, self.operand())
        if self.keyword("between"):
            low = self.operand()
            if not self.keyword("and"):
                raise self.error("expected AND in BETWEEN")
            return Between(left, low, self.operand())
        if self.keyword("in"):
            self.expect("(")
            options = [self.operand()]
            while self.punct(","):
                options.append(self.operand())
            self.expect(")")
            return In(left, tuple(options))
        raise self.error("expected a comparison")

    def operand(self) -> Operand:
        if self.is_call(frozenset({"size"})):
            self.pos += 2
            path = self.path()
            self.expect(")")
            return Size(path)
        token = self.peek()
        if token is not None and token[0] == "value":
            self.pos += 1
            return Value(token[1])
        return self.path()

    def path(self) -> Path:
        token = self.peek()
        if token is None or token[0] not in ("name", "ident") or token[1].lower() in _KEYWORDS:
            raise self.error("expected an attribute")
        if token[0] == "ident" and token[1].upper() in RESERVED_WORDS:
            raise ValidationError(f"Attribute name is a reserved keyword; reserved keyword: {token[1]}")
        self.pos += 1
        following = self.peek()
        if following in (("op", "."), ("op", "[")):
            raise self.error("nested document paths are not supported by this store")
        return Path(token[1])

    # updates

    def update(self) -> Update:
        sets: list[tuple[Path, Operand]] = []
        removes: list[Path] = []
        adds: list[tuple[Path, Value]] = []
        seen: set[str] = set()
        while self.peek() is not None:
            token = self.peek()
            assert token is not None
            clause = token[1].lower() if token[0] == "ident" else ""
            if clause not in ("set", "remove", "add", "delete") or clause in seen:
                raise self.error("expected SET, REMOVE or ADD (each at most once)")
            if clause == "delete":
                raise self.error("DELETE (from sets) is not supported by this store")
            seen.add(clause)
            self.pos += 1
            while True:
                path = self.path()
                if clause == "set":
                    self.expect("=")
                    sets.append((path, self.set_value()))
                elif clause == "add":
                    value = self.peek()
                    if value is None or value[0] != "value":
                        raise self.error("ADD takes a :value")
                    self.pos += 1
                    adds.append((path, Value(value[1])))
                else:
                    removes.append(path)
                if not self.punct(","):
                    break
        if not seen:
            raise self.error("empty update expression")
        return Update(tuple(sets), tuple(removes), tuple(adds))

    def set_value(self) -> Operand:
        left = self.set_term()
        for symbol in ("+", "-"):
            if self.punct(symbol):
                return Arithmetic(symbol, left, self.set_term())
        return left

    def set_term(self) -> Operand:
        function = self.is_call(frozenset({"if_not_exists", "list_append"}))
        if function == "if_not_exists":
            self.pos += 2
            path = self.path()
            self.expect(",")
            default = self.set_term()
            self.expect(")")
            return IfNotExists(path, default)
        if function == "list_append":
            self.pos += 2
            first = self.set_term()
            self.expect(",")
            second = self.set_term()
            self.expect(")")
            return ListAppend(first, second)
        token = self.peek()
        if token is not None and token[0] == "value":
            self.pos += 1
            return Value(token[1])
        return self.path()


@lru_cache(maxsize=1024)
def parse_condition(text: str) -> Condition:
    parser = _Parser(text)
    condition = parser.condition()
    parser.done()
    return condition


@lru_cache(maxsize=1024)
def parse_update(text: str) -> Update:
    parser = _Parser(text)
    update = parser.update()
    parser.done()
    return update


# -- key conditions -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCondition:
    """A query's key condition, resolved: the partition value and at most one sort-key range."""

    partition: str
    sort_op: str | None = None  # "=", "<", "<=", ">", ">=", "between", "begins_with"
    sort_values: tuple[str, ...] = ()


def key_condition(text: str, scope: Scope, hash_key: str, range_key: str) -> KeyCondition:
    """Resolve a KeyConditionExpression against an index whose keys are ``hash_key``/``range_key`` (strings)."""
    parts: list[Condition] = []

    def flatten(node: Condition) -> None:
        if isinstance(node, Logical) and node.op == "and":
            flatten(node.left)
            flatten(node.right)
        else:
            parts.append(node)

    flatten(parse_condition(text))
    partition: str | None = None
    sort: tuple[str, tuple[str, ...]] | None = None
    for part in parts:
        attribute, op, operands = _key_part(part, scope)
        values = tuple(_key_value(scope, operand) for operand in operands)
        if attribute == hash_key and op == "=" and partition is None:
            partition = values[0]
        elif attribute == range_key and sort is None:
            sort = (op, values)
        else:
            raise ValidationError(f"Query key condition not supported: {text!r}")
    if partition is None:
        raise ValidationError(f"Query condition missed key schema element: {hash_key}")
    return KeyCondition(partition, *(sort or (None, ())))


def _key_part(part: Condition, scope: Scope) -> tuple[str, str, tuple[Operand, ...]]:
    if isinstance(part, Compare) and isinstance(part.left, Path) and part.op != "<>":
        return scope.attribute(part.left.ref), part.op, (part.right,)
    if isinstance(part, Between) and isinstance(part.operand, Path):
        return scope.attribute(part.operand.ref), "between", (part.low, part.high)
    if isinstance(part, Function) and part.name == "begins_with" and part.argument is not None:
        return scope.attribute(part.path.ref), "begins_with", (part.argument,)
    raise ValidationError("Invalid operator used in KeyConditionExpression")


def _key_value(scope: Scope, operand: Operand) -> str:
    if not isinstance(operand, Value):
        raise ValidationError("a key condition compares a key attribute with a :value")
    value = scope.value(operand.ref)
    if not isinstance(value, str):
        raise ValidationError("One or more parameter values were invalid: Condition parameter type does not match")
    return value


# -- placeholders -------------------------------------------------------------------------------------------------


def check_placeholders(used: Iterable[str], names: Mapping[str, str] | None, values: Mapping[str, Any] | None) -> None:
    """DynamoDB refuses ExpressionAttributeNames/Values that no expression of the request uses."""
    refs = set(used)
    unused_names = set(names or ()) - refs
    if unused_names:
        raise ValidationError(
            f"Value provided in ExpressionAttributeNames unused in expressions: {sorted(unused_names)}"
        )
    unused_values = set(values or ()) - refs
    if unused_values:
        raise ValidationError(
            f"Value provided in ExpressionAttributeValues unused in expressions: {sorted(unused_values)}"
        )
