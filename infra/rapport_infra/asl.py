"""Structural checks of an Amazon States Language (JSONPath) definition, before AWS sees it.

cfn-lint validates a definition against the ASL JSON schema (rule E3601), which catches misspelt
fields and wrong types. What a schema cannot express is checked here: every transition lands on a
state that exists, every state is reachable and can still reach an end, Choice rules are well
formed, ``States.ALL`` comes alone and last, callback tasks pass their token and time out, and a
JSONPath parameter really is a path. The stack runs these checks at synth time, so a broken
definition fails ``cdk synth`` instead of a deployment.

Nothing here imports CDK or boto3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")

_TERMINAL_TYPES = frozenset({"Succeed", "Fail"})
_STATE_TYPES = frozenset({"Task", "Pass", "Wait", "Choice", "Parallel", "Map", "Succeed", "Fail"})
_WAIT_FIELDS = ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")

# Choice comparison operators (JSONPath) and the JSON type their operand must have.
_STRING_OPERATORS = (
    "StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals",
    "StringGreaterThanEquals", "StringMatches", "TimestampEquals", "TimestampLessThan",
    "TimestampGreaterThan", "TimestampLessThanEquals", "TimestampGreaterThanEquals",
)
_NUMERIC_OPERATORS = (
    "NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals",
    "NumericGreaterThanEquals",
)
_TYPE_TESTS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")
_PATH_OPERATORS = tuple(
    f"{operator}Path" for operator in (*_STRING_OPERATORS, *_NUMERIC_OPERATORS, "BooleanEquals")
    if operator != "StringMatches"
)
_COMPARISONS = frozenset((*_STRING_OPERATORS, *_NUMERIC_OPERATORS, "BooleanEquals", *_TYPE_TESTS,
                          *_PATH_OPERATORS))
_COMBINATORS = frozenset({"And", "Or", "Not"})


@dataclass(frozen=True)
class AslProblem:
    """One thing wrong with a definition: where (a state, or ``(definition)``) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def load_definition(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def substitution_names(definition: Mapping[str, Any]) -> set[str]:
    """Every ``${Name}`` the definition expects CloudFormation to substitute."""
    return set(_SUBSTITUTION.findall(json.dumps(definition)))


def task_resources(definition: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(state name, state) for every Task, nested Map and Parallel states included."""
    for name, state in _all_states(definition):
        if state.get("Type") == "Task":
            yield name, state


_MISSING = object()


def _lookup(data: Any, path: str) -> Any:
    """Value at a simple JSONPath (``$``, ``$.a.b``); :data:`_MISSING` when absent."""
    if path == "$":
        return data
    value = data
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


_COMPARE = {
    "Equals": lambda left, right: left == right,
    "LessThan": lambda left, right: left < right,
    "GreaterThan": lambda left, right: left > right,
    "LessThanEquals": lambda left, right: left <= right,
    "GreaterThanEquals": lambda left, right: left >= right,
}


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_TYPE_TEST = {
    "IsNull": lambda value: value is None,
    "IsString": lambda value: isinstance(value, str),
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsNumeric": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "IsTimestamp": lambda value: isinstance(value, str) and _TIMESTAMP.match(value) is not None,
}


def _wildcard(pattern: str) -> re.Pattern[str]:
    """StringMatches: ``*`` matches anything, ``\\*`` is a literal star."""
    parts = re.split(r"(?<!\\)\*", pattern)
    return re.compile(".*".join(re.escape(part.replace("\\*", "*")) for part in parts), re.DOTALL)


def _matches(rule: Mapping[str, Any], data: Any) -> bool:
    if "And" in rule:
        return all(_matches(inner, data) for inner in rule["And"])
    if "Or" in rule:
        return any(_matches(inner, data) for inner in rule["Or"])
    if "Not" in rule:
        return not _matches(rule["Not"], data)
    value = _lookup(data, rule["Variable"])
    operator = next(key for key in rule if key in _COMPARISONS)
    operand = rule[operator]
    if operator == "IsPresent":
        return (value is not _MISSING) == operand
    if value is _MISSING:
        return False
    if operator in _TYPE_TESTS:
        return _TYPE_TEST[operator](value) == operand
    if operator == "StringMatches":
        return isinstance(value, str) and _wildcard(operand).fullmatch(value) is not None
    if operator.endswith("Path"):
        operator, operand = operator.removesuffix("Path"), _lookup(data, operand)
        if operand is _MISSING:
            return False
    kind = next(kind for kind in ("String", "Numeric", "Boolean", "Timestamp") if operator.startswith(kind))
    expected_type = {"String": str, "Timestamp": str, "Boolean": bool, "Numeric": int | float}[kind]
    if not isinstance(value, expected_type) or (kind == "Numeric" and isinstance(value, bool)):
        return False
    return bool(_COMPARE[operator.removeprefix(kind)](value, operand))


def route(definition: Mapping[str, Any], choice_state: str, data: Any) -> str:
    """The state a JSONPath Choice state sends ``data`` to (simple ``$.a.b`` paths only).

    Enough to test a definition's routing without running it: every JSONPath comparison operator,
    And, Or and Not; paths are plain dotted names (no filters, no array indexes).
    """
    state = dict(_all_states(definition))[choice_state]
    index = matching_rule(definition, choice_state, data)
    if index is not None:
        return state["Choices"][index]["Next"]
    if "Default" not in state:
        raise KeyError(f"{choice_state} has no Default and no rule matched")
    return state["Default"]


def matching_rule(definition: Mapping[str, Any], choice_state: str, data: Any) -> int | None:
    """Index of the first rule of a Choice state that ``data`` satisfies; ``None`` means its Default."""
    state = dict(_all_states(definition))[choice_state]
    return next((index for index, rule in enumerate(state["Choices"]) if _matches(rule, data)), None)


def choice_states(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every Choice state by name, nested Map and Parallel states included."""
    return {name: state for name, state in _all_states(definition) if state.get("Type") == "Choice"}


def validate_definition(
    definition: Mapping[str, Any], *, single_success_end: bool = True
) -> list[AslProblem]:
    """All structural problems of a JSONPath definition; an empty list means it is sound.

    ``single_success_end`` also requires exactly one way to finish successfully at the top level
    (one ``End: true`` or ``Succeed`` state), so every outcome is recorded by the same last step.
    """
    problems: list[AslProblem] = []
    if definition.get("QueryLanguage", "JSONPath") != "JSONPath":
        return [AslProblem("(definition)", "only JSONPath definitions are supported")]
    problems.extend(_check_machine(definition, "(definition)"))
    if single_success_end:
        ends = [
            name for name, state in (definition.get("States") or {}).items()
            if isinstance(state, dict) and (state.get("End") is True or state.get("Type") == "Succeed")
        ]
        if len(ends) != 1:
            problems.append(AslProblem(
                "(definition)", f"expected exactly one successful end state, found {sorted(ends) or 'none'}"
            ))
    return problems


def _all_states(machine: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in (machine.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        yield name, state
        for child in _child_machines(state):
            yield from _all_states(child)


def _child_machines(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if state.get("Type") == "Parallel":
        return [branch for branch in state.get("Branches", []) if isinstance(branch, dict)]
    if state.get("Type") == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        return [processor] if isinstance(processor, dict) else []
    return []


def _check_machine(machine: Mapping[str, Any], where: str) -> list[AslProblem]:
    states = machine.get("States")
    if not isinstance(states, dict) or not states:
        return [AslProblem(where, "States must be a non-empty object")]
    problems: list[AslProblem] = []
    start = machine.get("StartAt")
    if start not in states:
        problems.append(AslProblem(where, f"StartAt {start!r} is not a state"))
    edges: dict[str, set[str]] = {}
    for name, state in states.items():
        if not isinstance(state, dict):
            problems.append(AslProblem(name, "a state must be an object"))
            continue
        state_problems, targets = _check_state(name, state)
        problems.extend(state_problems)
        for target in sorted(targets):
            if target not in states:
                problems.append(AslProblem(name, f"transition to {target!r}, which is not a state"))
        edges[name] = {target for target in targets if target in states}
        for index, child in enumerate(_child_machines(state)):
            problems.extend(_check_machine(child, f"{name}[{index}]"))
    if start in states:
        problems.extend(_check_graph(states, edges, start))
    return problems


def _check_graph(states: Mapping[str, Any], edges: Mapping[str, set[str]], start: str) -> list[AslProblem]:
    problems: list[AslProblem] = []
    reachable = _closure({start}, edges)
    for name in states:
        if name not in reachable:
            problems.append(AslProblem(name, "unreachable from StartAt"))
    terminals = {
        name for name, state in states.items()
        if isinstance(state, dict) and (state.get("Type") in _TERMINAL_TYPES or state.get("End") is True)
    }
    reverse: dict[str, set[str]] = {name: set() for name in states}
    for source, targets in edges.items():
        for target in targets:
            reverse[target].add(source)
    can_finish = _closure(terminals, reverse)
    for name in states:
        if name in reachable and name not in can_finish:
            problems.append(AslProblem(name, "no path from here reaches an end (a loop with no exit)"))
    return problems


def _closure(seeds: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(seeds)
    frontier = list(seeds)
    while frontier:
        for target in edges.get(frontier.pop(), ()):
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def _check_state(name: str, state: Mapping[str, Any]) -> tuple[list[AslProblem], set[str]]:
    kind = state.get("Type")
    if kind not in _STATE_TYPES:
        return [AslProblem(name, f"unknown Type {kind!r}")], set()
    problems: list[AslProblem] = []
    targets: set[str] = set()
    if kind == "Choice":
        problems.extend(_check_choice(name, state, targets))
    elif kind in _TERMINAL_TYPES:
        if "Next" in state or "End" in state:
            problems.append(AslProblem(name, f"a {kind} state may not have Next or End"))
    else:
        has_next, has_end = "Next" in state, state.get("End") is True
        if has_next == has_end:
            problems.append(AslProblem(name, "needs exactly one of Next or End: true"))
        if has_next:
            targets.add(state["Next"])
    if kind == "Wait" and sum(field in state for field in _WAIT_FIELDS) != 1:
        problems.append(AslProblem(name, "a Wait needs exactly one of " + ", ".join(_WAIT_FIELDS)))
    if kind == "Task":
        problems.extend(_check_task(name, state))
    for field in ("Retry", "Catch"):
        problems.extend(_check_error_handlers(name, field, state.get(field), targets))
    for field in ("Parameters", "ResultSelector"):
        if field in state:
            problems.extend(_check_payload_template(name, field, state[field]))
    return problems, targets


def _check_task(name: str, state: Mapping[str, Any]) -> list[AslProblem]:
    problems: list[AslProblem] = []
    resource = state.get("Resource")
    if not isinstance(resource, str) or not resource:
        return [AslProblem(name, "a Task needs a Resource")]
    if "TimeoutSeconds" in state and "TimeoutSecondsPath" in state:
        problems.append(AslProblem(name, "TimeoutSeconds and TimeoutSecondsPath are exclusive"))
    if resource.endswith(".waitForTaskToken"):
        if "$$.Task.Token" not in json.dumps(state.get("Parameters", {})):
            problems.append(AslProblem(name, "a callback task must pass $$.Task.Token in its Parameters"))
        if not any(field in state for field in ("TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds")):
            problems.append(AslProblem(name, "a callback task without a timeout can wait for a year"))
    return problems


def _check_error_handlers(name: str, field: str, handlers: Any, targets: set[str]) -> list[AslProblem]:
    if handlers is None:
        return []
    if not isinstance(handlers, list) or not handlers:
        return [AslProblem(name, f"{field} must be a non-empty list")]
    problems: list[AslProblem] = []
    for index, handler in enumerate(handlers):
        errors = handler.get("ErrorEquals") if isinstance(handler, dict) else None
        if not isinstance(errors, list) or not errors:
            problems.append(AslProblem(name, f"{field}[{index}] needs a non-empty ErrorEquals"))
            continue
        if "States.ALL" in errors:
            if len(errors) != 1:
                problems.append(AslProblem(name, f"{field}[{index}]: States.ALL must appear alone"))
            if index != len(handlers) - 1:
                handler_kind = "retrier" if field == "Retry" else "catcher"
                problems.append(AslProblem(
                    name, f"{field}[{index}]: States.ALL must be in the last {handler_kind}; "
                    f"the {handler_kind}s after it can never match"
                ))
        if field == "Catch":
            if "Next" not in handler:
                problems.append(AslProblem(name, f"Catch[{index}] needs a Next"))
            else:
                targets.add(handler["Next"])
    return problems


def _check_payload_template(name: str, field: str, template: Any) -> list[AslProblem]:
    problems: list[AslProblem] = []
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or not value.startswith(("$", "States.")):
                    problems.append(AslProblem(
                        name, f"{field}.{key} must be a path ($...) or an intrinsic function (States....)"
                    ))
            else:
                problems.extend(_check_payload_template(name, f"{field}.{key}", value))
    elif isinstance(template, list):
        for index, value in enumerate(template):
            problems.extend(_check_payload_template(name, f"{field}[{index}]", value))
    return problems


def _check_choice(name: str, state: Mapping[str, Any], targets: set[str]) -> list[AslProblem]:
    problems: list[AslProblem] = []
    if "Next" in state or "End" in state:
        problems.append(AslProblem(name, "a Choice state may not have Next or End"))
    rules = state.get("Choices")
    if not isinstance(rules, list) or not rules:
        return [*problems, AslProblem(name, "a Choice needs a non-empty Choices list")]
    if "Default" in state:
        targets.add(state["Default"])
    else:
        problems.append(AslProblem(name, "a Choice needs an explicit Default branch"))
    for index, rule in enumerate(rules):
        where = f"Choices[{index}]"
        if not isinstance(rule, dict):
            problems.append(AslProblem(name, f"{where} must be an object"))
            continue
        if "Next" not in rule:
            problems.append(AslProblem(name, f"{where} needs a Next"))
        else:
            targets.add(rule["Next"])
        problems.extend(_check_rule(name, where, rule, top_level=True))
    return problems


def _check_rule(name: str, where: str, rule: Mapping[str, Any], *, top_level: bool) -> list[AslProblem]:
    if not top_level and "Next" in rule:
        return [AslProblem(name, f"{where}: a nested rule may not have a Next")]
    combinators = [key for key in rule if key in _COMBINATORS]
    comparisons = [key for key in rule if key in _COMPARISONS]
    if len(combinators) + len(comparisons) != 1:
        return [AslProblem(name, f"{where}: needs exactly one operator, found {combinators + comparisons}")]
    if combinators:
        return _check_combinator(name, where, combinators[0], rule[combinators[0]])
    operator, operand = comparisons[0], rule[comparisons[0]]
    problems: list[AslProblem] = []
    variable = rule.get("Variable")
    if not isinstance(variable, str) or not variable.startswith("$"):
        problems.append(AslProblem(name, f"{where}: {operator} needs a Variable that is a path"))
    if not _operand_fits(operator, operand):
        problems.append(AslProblem(name, f"{where}: {operand!r} is not a valid operand of {operator}"))
    return problems


def _check_combinator(name: str, where: str, combinator: str, operand: Any) -> list[AslProblem]:
    if combinator == "Not":
        if not isinstance(operand, dict):
            return [AslProblem(name, f"{where}: Not takes one rule")]
        return _check_rule(name, f"{where}.Not", operand, top_level=False)
    if not isinstance(operand, list) or not operand:
        return [AslProblem(name, f"{where}: {combinator} takes a non-empty list of rules")]
    problems: list[AslProblem] = []
    for index, rule in enumerate(operand):
        if not isinstance(rule, dict):
            problems.append(AslProblem(name, f"{where}.{combinator}[{index}] must be an object"))
        else:
            problems.extend(_check_rule(name, f"{where}.{combinator}[{index}]", rule, top_level=False))
    return problems


def _operand_fits(operator: str, operand: Any) -> bool:
    if operator.endswith("Path"):
        return isinstance(operand, str) and operand.startswith("$")
    if operator in _STRING_OPERATORS:
        return isinstance(operand, str)
    if operator in _NUMERIC_OPERATORS:
        return isinstance(operand, int | float) and not isinstance(operand, bool)
    return isinstance(operand, bool)  # BooleanEquals and the Is* type tests
