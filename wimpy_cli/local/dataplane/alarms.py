"""CloudWatch's alarm evaluation, which the emulator does not do, for the alarms on the
metrics the local data plane makes (metrics.py): every alarm in the emulator whose
metrics are AWS/ApplicationELB ones of a target group the data plane serves is evaluated
as CloudWatch evaluates it, and its state set in the emulator when it changes, so a
canary's watch (`describe_alarms`) sees ALARM when the release's real requests fail.

As CloudWatch does: the last EvaluationPeriods complete periods are read (the period in
progress is not), each gives one datapoint (the alarm's statistic over the period's
values, or its metric-math expression over its queries' statistics), missing datapoints
are treated as TreatMissingData says, and the alarm is in ALARM when at least
DatapointsToAlarm of them breach the threshold.
"""

from __future__ import annotations

import ast
import datetime
import operator
from dataclasses import dataclass
from typing import Any, Callable

from wimpy_cli.local.dataplane.metrics import NAMESPACE, Dimensions, MetricStore, dimensions, statistic

COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}


@dataclass(frozen=True)
class Evaluation:
    state: str   # OK, ALARM or INSUFFICIENT_DATA
    reason: str  # as CloudWatch words its StateReason


@dataclass(frozen=True)
class _Query:
    metric: str
    dims: Dimensions
    stat: str
    period: int


def evaluate(alarm: dict[str, Any], store: MetricStore, served: set[Dimensions],
             now: int) -> Evaluation | None:
    """The alarm's state at `now` (epoch seconds); None when it reads a metric the data plane
    does not make (left to whoever else sets it)."""
    queries = _queries(alarm)
    if not queries or any(q is not None and q.dims not in served for q in queries.values()):
        return None
    period = _period(alarm, queries)
    periods = int(alarm["EvaluationPeriods"])
    needed = int(alarm.get("DatapointsToAlarm") or periods)
    end = now - now % period
    datapoints = []
    for start in range(end - periods * period, end, period):
        values = {key: None if q is None else statistic(q.stat, store.values(q.metric, q.dims, start, start + period))
                  for key, q in queries.items()}
        datapoints.append((start, _value(alarm, values)))
    compare, words = COMPARISONS[alarm["ComparisonOperator"]]
    threshold = float(alarm["Threshold"])
    treat = alarm.get("TreatMissingData", "missing")
    present = [(start, value) for start, value in reversed(datapoints) if value is not None]
    breaching = [(start, value) for start, value in present if compare(value, threshold)]
    missing = periods - len(present)
    if treat == "breaching":
        breaching_count = len(breaching) + missing
    else:
        breaching_count = len(breaching)
    shown = ", ".join(f"{value:g} ({_when(start)})" for start, value in (breaching or present)[:needed])
    if breaching_count >= needed:
        return Evaluation("ALARM", f"Threshold Crossed: {breaching_count} out of the last {periods} "
                                   f"datapoints [{shown}] were {words} the threshold ({threshold:g}) "
                                   f"(minimum {needed} datapoints for OK -> ALARM transition).")
    if not present and treat in ("missing", "ignore"):
        if treat == "ignore":
            return None
        return Evaluation("INSUFFICIENT_DATA", f"Insufficient Data: {periods} datapoints were unknown.")
    return Evaluation("OK", f"Threshold Crossed: {breaching_count} out of the last {periods} datapoints "
                            f"were {words} the threshold ({threshold:g}); {missing} missing "
                            f"datapoint(s) treated as {treat}.")


def period_of(alarm: dict[str, Any]) -> int:
    """The seconds of each of the alarm's datapoints: its own period, or (metric math) its
    first metric query's."""
    return _period(alarm, _queries(alarm))


def _period(alarm: dict[str, Any], queries: dict[str, _Query | None]) -> int:
    return int(alarm.get("Period") or next(q.period for q in queries.values() if q))


def alarm_dimensions(metric_dims: list[dict[str, str]]) -> Dimensions:
    return dimensions(**{d["Name"]: d["Value"] for d in metric_dims})


def _queries(alarm: dict[str, Any]) -> dict[str, _Query | None]:
    """Each query's metric (None for an expression); {} when one is not AWS/ApplicationELB."""
    if alarm.get("MetricName"):
        if alarm.get("Namespace") != NAMESPACE:
            return {}
        stat = alarm.get("ExtendedStatistic") or alarm["Statistic"]
        return {"m": _Query(alarm["MetricName"], alarm_dimensions(alarm.get("Dimensions", [])),
                            stat, int(alarm["Period"]))}
    found: dict[str, _Query | None] = {}
    for query in alarm.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat is None:
            found[query["Id"]] = None
            continue
        metric = stat["Metric"]
        if metric.get("Namespace") != NAMESPACE:
            return {}
        found[query["Id"]] = _Query(metric["MetricName"], alarm_dimensions(metric.get("Dimensions", [])),
                                    stat["Stat"], int(stat["Period"]))
    return found


def _value(alarm: dict[str, Any], values: dict[str, float | None]) -> float | None:
    if alarm.get("MetricName"):
        return values["m"]
    returned = next(q for q in alarm["Metrics"] if q.get("ReturnData", True))
    if returned.get("MetricStat"):
        return values[returned["Id"]]
    return expression(returned["Expression"], values)


def expression(text: str, values: dict[str, float | None]) -> float | None:
    """A metric-math expression of arithmetic, comparisons and IF(condition, a, b) over the
    queries' values; None (no datapoint) when a value it reads is missing, as metric math
    leaves out a timestamp one of its series lacks."""
    tree = ast.parse(text.replace("IF(", "_if_("), mode="eval")
    return _evaluate(tree.body, values)


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv}
_COMPARE = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}


def _evaluate(node: ast.AST, values: dict[str, float | None]) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id in values:
        return values[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _evaluate(node.operand, values)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _evaluate(node.left, values), _evaluate(node.right, values)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Div) and right == 0:
            return None  # metric math drops a division by zero's datapoint
        return _ARITHMETIC[type(node.op)](left, right)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        left, right = _evaluate(node.left, values), _evaluate(node.comparators[0], values)
        if left is None or right is None:
            return None
        return 1.0 if _COMPARE[type(node.ops[0])](left, right) else 0.0
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_if_" \
            and len(node.args) == 3:
        condition = _evaluate(node.args[0], values)
        if condition is None:
            return None
        return _evaluate(node.args[1] if condition else node.args[2], values)
    raise ValueError(f"metric math the local data plane does not evaluate: {ast.unparse(node)}")


def _when(start: int) -> str:
    return datetime.datetime.fromtimestamp(start, datetime.timezone.utc).strftime("%d/%m/%y %H:%M:%S")
