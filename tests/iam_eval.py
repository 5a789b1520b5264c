"""A small, strict IAM identity-policy evaluator for tests.

It answers "would these identity policies allow `action` on `resource`?" using
AWS's rules: an explicit Deny wins, otherwise at least one Allow must match,
otherwise the request is implicitly denied. Anything it does not understand
raises ValueError, so a test can never pass because something was silently
skipped. It deliberately ignores Principal/NotPrincipal (identity policies
apply to the caller), permission boundaries, SCPs and resource policies.
"""
from __future__ import annotations

import re
from functools import lru_cache

_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                   "Condition", "Principal", "NotPrincipal"}
_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")


@lru_cache(maxsize=None)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern:
    """IAM wildcards: `*` is any run of characters (including `/` and `:`), `?` is one."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(value: str, pattern: str, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _reject_token_keys(block: dict, where: str) -> None:
    """CloudFormation intrinsics ({"Fn::...": ...} / {"Ref": ...}) mean the caller forgot to resolve."""
    for key in block:
        if key == "Ref" or str(key).startswith("Fn::"):
            raise ValueError(f"unresolved token in {where}: {block!r}")


def _scalar(value, where: str) -> str:
    """Normalise one policy/context value to a string, refusing tokens and policy variables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        _reject_token_keys(value, where)
    if not isinstance(value, str):
        raise ValueError(f"unsupported value in {where}: {value!r}")
    if "${Token[" in value or "#{Token[" in value:
        raise ValueError(f"unresolved token in {where}: {value!r}")
    if "${" in value:
        raise ValueError(f"unsupported policy variable in {where}: {value!r}")
    return value


def _values(value, where: str) -> list[str]:
    """IAM allows a single value or a list anywhere a list is accepted."""
    items = value if isinstance(value, list) else [value]
    return [_scalar(v, where) for v in items]


def _numeric(value: str, where: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        if where == "policy":
            raise ValueError(f"non-numeric value in Numeric condition: {value!r}") from None
        return None  # a non-numeric request value simply does not match


def _bool_eq(value: str, expected: str) -> bool:
    if expected.lower() not in ("true", "false"):
        raise ValueError(f"Bool condition value must be 'true' or 'false', got {expected!r}")
    return value.lower() == expected.lower()


def _num(compare):
    def check(value: str, expected: str) -> bool:
        wanted, got = _numeric(expected, "policy"), _numeric(value, "request")
        return got is not None and compare(got, wanted)
    return check


# Base operator -> (positive comparison of request value vs one policy value, negated?)
_OPERATORS = {
    "StringEquals": (lambda v, p: v == p, False),
    "StringNotEquals": (lambda v, p: v == p, True),
    "StringEqualsIgnoreCase": (lambda v, p: v.casefold() == p.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda v, p: v.casefold() == p.casefold(), True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "ArnEquals": (_like, False),  # AWS: ArnEquals and ArnLike both honour wildcards
    "ArnLike": (_like, False),
    "ArnNotEquals": (_like, True),
    "ArnNotLike": (_like, True),
    "Bool": (_bool_eq, False),
    "NumericEquals": (_num(lambda a, b: a == b), False),
    "NumericNotEquals": (_num(lambda a, b: a == b), True),
    "NumericLessThan": (_num(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_num(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_num(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_num(lambda a, b: a >= b), False),
}


def _condition_holds(operator: str, key: str, expected: list[str], context: dict) -> bool:
    """One operator/key pair. A missing key behaves like an empty value set, which gives
    AWS's answers: positive -> false, negated -> true, ForAllValues -> true,
    ForAnyValue -> false; `IfExists` turns a missing key into true."""
    prefix = next((p for p in _SET_PREFIXES if operator.startswith(p)), "")
    base = operator[len(prefix):]
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    present = key.lower() in context
    if base == "Null":
        if prefix or if_exists:
            raise ValueError(f"unsupported condition operator {operator!r}")
        return any(_bool_eq("false" if present else "true", e) for e in expected)
    if base not in _OPERATORS:
        raise ValueError(f"unsupported condition operator {operator!r}")
    compare, negated = _OPERATORS[base]
    if if_exists and not present:
        return True
    actual = _values(context.get(key.lower(), []), f"context key {key!r}")

    def per_value(v: str) -> bool:  # "this request value satisfies the operator"
        return any(compare(v, e) for e in expected) != negated

    if prefix == "ForAllValues:":
        return all(per_value(v) for v in actual)
    if prefix == "ForAnyValue:" or not negated:
        return any(per_value(v) for v in actual)
    return all(per_value(v) for v in actual)  # plain negated: no request value matches


def _conditions_hold(conditions: dict, context: dict) -> bool:
    """Operators are AND-ed, keys within an operator are AND-ed, values are OR-ed."""
    _reject_token_keys(conditions, "Condition")
    for operator, block in conditions.items():
        if not isinstance(block, dict):
            raise ValueError(f"condition {operator!r} must map keys to values, got {block!r}")
        _reject_token_keys(block, f"Condition {operator}")
        for key, value in block.items():
            if not _condition_holds(operator, key, _values(value, f"Condition {operator} {key}"), context):
                return False
    return True


def _element_matches(statement: dict, name: str, target: str, ignore_case: bool) -> bool:
    """Action/NotAction (or Resource/NotResource): exactly one must be present."""
    positive, negative = name, "Not" + name
    if (positive in statement) == (negative in statement):
        raise ValueError(f"statement needs exactly one of {positive}/{negative}: {statement!r}")
    field = positive if positive in statement else negative
    hit = any(_like(target, p, ignore_case) for p in _values(statement[field], field))
    return hit if field == positive else not hit


def _statement_matches(statement: dict, action: str, resource: str, context: dict) -> bool:
    unknown = set(statement) - _STATEMENT_KEYS
    if unknown:
        raise ValueError(f"unsupported statement keys {sorted(unknown)}")
    return (_element_matches(statement, "Action", action, ignore_case=True)
            and _element_matches(statement, "Resource", resource, ignore_case=False)
            and _conditions_hold(statement.get("Condition", {}), context))


def _statements(policy: dict) -> list[dict]:
    unknown = set(policy) - {"Version", "Id", "Statement"}
    if unknown or policy.get("Version", "2012-10-17") != "2012-10-17":
        raise ValueError(f"unsupported policy document keys/version: {policy!r}")
    statements = policy.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def evaluate(policies: list[dict], action: str, resource: str,
             context: dict[str, str | list[str]] | None = None) -> bool:
    """True iff some Allow statement matches and no Deny statement matches."""
    if ":" not in action:
        raise ValueError(f"action must look like 'service:Name', got {action!r}")
    ctx = {k.lower(): v for k, v in (context or {}).items()}
    matched = set()  # evaluate every statement so unsupported input always raises
    for policy in policies:
        for statement in _statements(policy):
            if isinstance(statement, dict):
                _reject_token_keys(statement, "Statement")
            effect = statement.get("Effect") if isinstance(statement, dict) else None
            if effect not in ("Allow", "Deny"):
                raise ValueError(f"statement Effect must be Allow or Deny: {statement!r}")
            if _statement_matches(statement, action, resource, ctx):
                matched.add(effect)
    return "Allow" in matched and "Deny" not in matched
