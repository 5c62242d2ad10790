"""A journey decision tree (ours or a client's own ASL file), checked against the journey contract.

A client may name its own tree in its configuration (``state_machine``, a path relative to the
configuration file). The stack and the local cloud then deploy that tree instead of ours, with the
same functions, so it must keep the same contract as ours:

* it is sound ASL (:func:`rapport_infra.asl.validate_definition`; the JSON schema through cfn-lint,
  :func:`schema_problems`, at synth and in the infra tests);
* it names only the catalogue's journey functions and the send-failures queue;
* every Task passes the fields its function requires, and every path a state reads names a field
  that the state which wrote it really returns (:mod:`rapport.journey.contract`), compared with
  values that field can take;
* every Task has the Retry and Catch our rules require (:data:`RULES`);
* it starts by assessing the account and ends by recording the outcome, failures included.

Each problem names the state and the rule it breaks, so a cloud team can fix a file without reading
this module. Nothing here imports CDK or boto3; cfn-lint is imported only by :func:`schema_problems`.
"""

from __future__ import annotations

import enum
import functools
import json
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from rapport.journey.contract import (
    CHANNEL_FALLBACK_ERRORS,
    INPUT_CONSTANTS,
    LAMBDA_TRANSIENT_ERRORS,
    PERMANENT_ERRORS,
    STEPS,
    CaughtError,
    JourneyStart,
    StepContract,
)
from rapport.strategy.config import ClientConfig
from rapport_infra import catalogue
from rapport_infra.asl import substitution_names, validate_definition

RULES: dict[str, str] = {
    "asl.structure": "the definition is sound ASL: targets exist, states are reachable and can finish",
    "asl.schema": "the definition passes the Amazon States Language JSON schema (cfn-lint E3601)",
    "catalogue.substitution": "every ${...} names a journey function's ARN or the send-failures queue",
    "catalogue.resource": "a Task invokes a journey function (the callback one with .waitForTaskToken) "
    "or sends to the send-failures queue, nothing else",
    "contract.paths": "no InputPath, OutputPath, ResultSelector, Map or Parallel; a Task, a Pass with a "
    "payload and a Catch each write one field ($.name) or nothing (null), never the journey's ids",
    "contract.input": "a Task passes every field its function requires, constants of a valid value",
    "contract.read": "every path a state reads names a field the journey's input or an earlier state writes",
    "contract.value": "a Choice compares a field with a value that field can take",
    "contract.start": "the tree starts by assessing the account (assess_account)",
    "contract.reply_start": "the Choice after the assessment routes a journey started by a reply "
    "($.response), so a reply no journey waited for is taken, not dropped",
    "contract.finish": "the one successful end records the outcome (finish_journey), and a Fail state is "
    "entered only after finish_journey recorded the failure",
    "retry.lambda": "a Task that invokes a function directly retries Lambda's transient errors",
    "retry.permanent": "no Task retries an error a retry cannot fix (States.ALL, States.TaskFailed, ours)",
    "catch.all": "every Task ends its Catch with States.ALL, except the failure recorder",
    "catch.timeout": "a callback Task catches States.Timeout, so silence moves the journey on",
    "catch.channel": "a collection send catches ChannelRejectedError and ChannelUnavailableError",
}

DEFINITION = "(definition)"
_CALLBACK_RESOURCE = "arn:aws:states:::lambda:invoke.waitForTaskToken"
_QUEUE_RESOURCE = "arn:aws:states:::sqs:sendMessage"
_QUEUE_KEY = "SendFailuresQueueUrl"
_PLACEHOLDER = re.compile(r"^\$\{([A-Za-z0-9_]+)\}$")
_PLAIN_PATH = re.compile(r"^\$(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_PATHS_IN_INTRINSIC = re.compile(r"(?<![$\w])\$(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_PROTECTED_FIELDS = frozenset({"account_id", "journey_id"})
_FUNCTION_OF_KEY = {spec.substitution_key: spec.name for spec in catalogue.FUNCTIONS}
_JOURNEY_FUNCTIONS = frozenset(catalogue.JOURNEY.functions)
_EQUALS = ("StringEquals", "BooleanEquals", "NumericEquals")


@dataclass(frozen=True)
class TreeProblem:
    """One thing a definition gets wrong: the state (or ``(definition)``), the rule, and what."""

    state: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = "the definition" if self.state == DEFINITION else f"state {self.state!r}"
        return f"{where} breaks {self.rule}: {self.message}"


class JourneyDefinitionError(Exception):
    """A journey definition cannot be used; the message names the file, each state and rule."""

    @classmethod
    def from_problems(cls, path: Path, problems: Sequence[TreeProblem]) -> JourneyDefinitionError:
        lines = "\n  ".join(str(problem) for problem in problems)
        return cls(
            f"{path}: the journey definition breaks the journey contract ({len(problems)} problem(s); "
            f"rules in rapport_infra.trees.RULES):\n  {lines}"
        )


def journey_definition_file(client: ClientConfig, client_file: Path) -> Path:
    """The client's own tree (``state_machine``, relative to its configuration file), else ours."""
    if client.state_machine is None:
        return catalogue.JOURNEY.definition_file
    return (client_file.parent / client.state_machine).resolve()


def load_journey_definition(
    client: ClientConfig, client_file: Path, *, schema: bool = False
) -> dict[str, Any]:
    """Read the client's journey definition and check it; :class:`JourneyDefinitionError` if unusable.

    ``schema`` adds the ASL JSON schema check through cfn-lint (seconds; the stack does it at synth).
    """
    path = journey_definition_file(client, client_file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise JourneyDefinitionError(
            f"{path}: cannot read the journey definition that {client_file.name} names ({error.strerror})"
        ) from error
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as error:
        raise JourneyDefinitionError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
    if not isinstance(definition, dict):
        raise JourneyDefinitionError(f"{path}: a journey definition is a JSON object")
    problems = check_journey_definition(definition)
    if schema:
        problems += schema_problems(definition)
    if problems:
        raise JourneyDefinitionError.from_problems(path, problems)
    return definition


def check_journey_definition(definition: Mapping[str, Any]) -> list[TreeProblem]:
    """Every way ``definition`` breaks the journey contract; an empty list means it may be deployed."""
    problems = [TreeProblem(p.where, "asl.structure", p.message) for p in validate_definition(definition)]
    states = definition.get("States")
    if not isinstance(states, dict):
        return problems
    states = {name: state for name, state in states.items() if isinstance(state, dict)}
    problems += _substitutions(definition)
    tasks = {name: _Task.of(name, state) for name, state in states.items() if state.get("Type") == "Task"}
    for task in tasks.values():
        problems += task.problems
    problems += _paths(states)
    problems += _inputs(tasks)
    writers = _writers(states, tasks)
    problems += _reads(states, writers)
    problems += _choice_values(states, writers)
    problems += _error_handling(states, tasks)
    problems += _start_and_finish(definition, states, tasks)
    return sorted(set(problems), key=lambda p: (p.state != DEFINITION, p.state, p.rule, p.message))


def schema_problems(definition: Mapping[str, Any]) -> list[TreeProblem]:
    """The definition against the ASL JSON schema, as cfn-lint (rule E3601) checks a template."""
    from cfnlint.api import lint  # a dev tool, and slow to import: only when asked

    substitutions: dict[str, str] = {
        name: "arn:aws:lambda:af-south-1:123456789012:function:rapport-check"
        for name in substitution_names(definition)
    }
    substitutions[_QUEUE_KEY] = "https://sqs.af-south-1.amazonaws.com/123456789012/rapport-check"
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Journey": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/rapport-check",
            "Definition": definition,
            "DefinitionSubstitutions": substitutions,
        }}},
    }
    problems = []
    for match in lint(json.dumps(template), regions=["af-south-1"]):
        path = [str(part) for part in match.path]
        state = path[5] if len(path) > 5 and path[3:5] == ["Definition", "States"] else DEFINITION
        where = "/".join(path[3:])
        problems.append(TreeProblem(state, "asl.schema", f"{match.rule.id} at {where}: {match.message}"))
    return problems


# -- Tasks: what each one invokes ----------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    name: str
    state: Mapping[str, Any]
    contract: StepContract | None  # None: not a function (the queue), or unknown (see problems)
    callback: bool
    payload: Mapping[str, Any] | None  # what the function receives
    problems: tuple[TreeProblem, ...]

    @classmethod
    def of(cls, name: str, state: Mapping[str, Any]) -> _Task:
        resource = state.get("Resource")
        parameters = state.get("Parameters") if isinstance(state.get("Parameters"), dict) else {}
        if not isinstance(resource, str):
            return cls(name, state, None, False, None, ())  # asl.structure reports it
        if resource == _QUEUE_RESOURCE:
            wrong_queue = parameters.get("QueueUrl") != "${" + _QUEUE_KEY + "}"
            message = "sends to a queue other than ${SendFailuresQueueUrl}"
            problems = (TreeProblem(name, "catalogue.resource", message),) if wrong_queue else ()
            return cls(name, state, None, False, None, problems)
        callback = resource == _CALLBACK_RESOURCE
        placeholder = parameters.get("FunctionName") if callback else resource
        found = _PLACEHOLDER.match(placeholder) if isinstance(placeholder, str) else None
        function = _FUNCTION_OF_KEY.get(found.group(1)) if found else None
        if function is None or function not in _JOURNEY_FUNCTIONS:
            what = f"function {function}, which is not a journey function" if function else repr(placeholder)
            allowed = "${<JourneyFunction>FunctionArn}, lambda:invoke.waitForTaskToken or sqs:sendMessage"
            return cls(name, state, None, callback, None, (
                TreeProblem(name, "catalogue.resource", f"invokes {what}; a Task may use only {allowed}"),
            ))
        contract = STEPS[function]
        problems: tuple[TreeProblem, ...] = ()
        if contract.callback != callback:
            how = "with .waitForTaskToken" if contract.callback else "directly (not as a callback)"
            problems = (TreeProblem(name, "catalogue.resource", f"{function} must be invoked {how}"),)
        payload = parameters.get("Payload") if callback else parameters
        return cls(name, state, contract, callback, payload if isinstance(payload, dict) else None, problems)

    @property
    def function(self) -> str | None:
        return self.contract.function if self.contract else None


def _substitutions(definition: Mapping[str, Any]) -> list[TreeProblem]:
    allowed = {key for key, name in _FUNCTION_OF_KEY.items() if name in _JOURNEY_FUNCTIONS} | {_QUEUE_KEY}
    return [
        TreeProblem(
            DEFINITION, "catalogue.substitution", f"${{{name}}} is neither a journey function nor the queue"
        )
        for name in sorted(substitution_names(definition) - allowed)
    ]


# -- Paths: how data moves through the state -------------------------------------------------------


def _result_field(result_path: Any) -> str | None:
    if isinstance(result_path, str) and re.fullmatch(r"\$\.[A-Za-z_]\w*", result_path):
        return result_path[2:]
    return None


def _paths(states: Mapping[str, Mapping[str, Any]]) -> list[TreeProblem]:
    problems = []
    for name, state in states.items():
        kind = state.get("Type")
        for field in ("InputPath", "OutputPath", "ResultSelector"):
            if field in state and not (field != "ResultSelector" and state[field] == "$"):
                problems.append(TreeProblem(name, "contract.paths", f"{field} is not allowed"))
        if kind in ("Map", "Parallel"):
            problems.append(TreeProblem(name, "contract.paths", f"a {kind} state is not allowed"))
        writes_result = kind == "Task" or (kind == "Pass" and ("Parameters" in state or "Result" in state))
        if writes_result:
            problems += _check_result_path(name, "ResultPath", state.get("ResultPath", "$"))
        for index, catcher in enumerate(state.get("Catch") or []):
            if isinstance(catcher, dict):
                where = f"Catch[{index}].ResultPath"
                problems += _check_result_path(name, where, catcher.get("ResultPath", "$"))
    return problems


def _check_result_path(name: str, where: str, result_path: Any) -> list[TreeProblem]:
    if result_path is None:
        return []
    field = _result_field(result_path)
    if field is None:
        return [TreeProblem(name, "contract.paths", f"{where} {result_path!r} must be null or $.<name>")]
    if field in _PROTECTED_FIELDS:
        return [TreeProblem(name, "contract.paths", f"{where} overwrites $.{field}, which every step needs")]
    return []


# -- Inputs: what each function is given ------------------------------------------------------------


def _inputs(tasks: Mapping[str, _Task]) -> list[TreeProblem]:
    problems = []
    for name, task in tasks.items():
        if task.contract is None:
            continue
        if task.payload is None:
            message = f"gives {task.function} no Parameters object"
            problems.append(TreeProblem(name, "contract.input", message))
            continue
        model = task.contract.input
        given = {key.removesuffix(".$") for key in task.payload}
        for field_name, field in model.model_fields.items():
            if field.is_required() and field_name not in given:
                problems.append(TreeProblem(
                    name, "contract.input", f"passes no {field_name}, which {task.function} requires"
                ))
        constants = INPUT_CONSTANTS.get(task.contract.function, {})
        for key, value in task.payload.items():
            if key.endswith(".$") or key not in model.model_fields:
                continue
            annotation = constants.get(key, model.model_fields[key].annotation)
            if not _accepts(annotation, value):
                problems.append(TreeProblem(
                    name, "contract.input", f"passes {key}={value!r}, not a valid {key} for {task.function}"
                    + _possible_values([annotation])
                ))
            elif key == "template_id" and value not in _template_ids():
                problems.append(TreeProblem(
                    name, "contract.input", f"passes template_id={value!r}, not a template in the catalogue"
                ))
    return problems


@functools.cache
def _template_ids() -> frozenset[str]:
    from rapport.messaging.templates import TemplateCatalogue

    return frozenset(key.template_id for key in TemplateCatalogue.load(default=True).keys())  # noqa: SIM118


def _accepts(annotation: Any, value: Any) -> bool:
    """Whether a field of type ``annotation`` can hold the JSON value ``value``."""
    try:
        TypeAdapter(annotation).validate_json(json.dumps(value), strict=True)
    except ValidationError:
        return False
    return True


# -- Reads: every path a state reads must be written ------------------------------------------------

# A shape is what a field of the state holds: a model (its fields are known), a set of keys (a Pass
# template), or None (anything: a dict the contract does not describe).
_Shape = type[BaseModel] | frozenset[str] | None


def _writers(
    states: Mapping[str, Mapping[str, Any]], tasks: Mapping[str, _Task]
) -> dict[str, list[tuple[str, Any]]]:
    """Field of the state -> (who writes it, the shape written)."""
    writers: dict[str, list[tuple[str, Any]]] = {}
    for field_name, field in JourneyStart.model_fields.items():
        writers.setdefault(field_name, []).append(("the journey's input", field.annotation))
    for name, state in states.items():
        kind = state.get("Type")
        field = _result_field(state.get("ResultPath", "$"))
        if field is not None:
            if kind == "Task":
                task = tasks[name]
                shape: Any = task.contract.output if task.contract else None
                writers.setdefault(field, []).append((task.function or name, shape))
            elif kind == "Pass":
                template = state.get("Parameters", state.get("Result"))
                keys = None
                if isinstance(template, dict):
                    keys = frozenset(key.removesuffix(".$") for key in template)
                writers.setdefault(field, []).append((name, keys))
        for catcher in state.get("Catch") or []:
            caught = _result_field(catcher.get("ResultPath", "$")) if isinstance(catcher, dict) else None
            if caught is not None:
                writers.setdefault(caught, []).append((f"{name}'s Catch", CaughtError))
    return writers


def _reads(
    states: Mapping[str, Mapping[str, Any]], writers: Mapping[str, list[tuple[str, Any]]]
) -> list[TreeProblem]:
    problems = []
    for name, state in states.items():
        for path in _paths_read(state):
            if not _PLAIN_PATH.match(path):
                problems.append(TreeProblem(name, "contract.read", f"reads {path}: only plain $.a.b paths"))
                continue
            parts = path[2:].split(".") if path != "$" else []
            if not parts:
                continue
            sources = writers.get(parts[0])
            if not sources:
                problems.append(TreeProblem(
                    name, "contract.read",
                    f"reads {path}, but neither the journey's input nor any state writes $.{parts[0]}"
                ))
                continue
            if not any(_resolve(shape, parts[1:]) is not _UNKNOWN for _, shape in sources):
                who = ", ".join(sorted({source for source, _ in sources}))
                problems.append(TreeProblem(
                    name, "contract.read", f"reads {path}, a field that {who} never returns "
                    "(declare it in rapport.journey.contract first)"
                ))
    return problems


def _paths_read(state: Mapping[str, Any]) -> Iterator[str]:
    if isinstance(state.get("Parameters"), dict | list):
        yield from _template_paths(state["Parameters"])
    for field in ("SecondsPath", "TimestampPath", "TimeoutSecondsPath", "HeartbeatSecondsPath"):
        if isinstance(state.get(field), str):
            yield state[field]
    for rule in state.get("Choices") or []:
        yield from _rule_paths(rule)


def _template_paths(template: Any) -> Iterator[str]:
    if isinstance(template, dict):
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                if value.startswith("States."):
                    yield from _PATHS_IN_INTRINSIC.findall(value)
                elif not value.startswith("$$"):
                    yield value
            else:
                yield from _template_paths(value)
    elif isinstance(template, list):
        for item in template:
            yield from _template_paths(item)


def _rule_paths(rule: Any) -> Iterator[str]:
    if not isinstance(rule, dict):
        return
    for combinator in ("And", "Or"):
        for inner in rule.get(combinator) or []:
            yield from _rule_paths(inner)
    if "Not" in rule:
        yield from _rule_paths(rule["Not"])
    if isinstance(rule.get("Variable"), str):
        yield rule["Variable"]
    for key, value in rule.items():
        if key.endswith("Path") and isinstance(value, str):
            yield value


_UNKNOWN = object()


def _resolve(shape: Any, parts: Sequence[str]) -> Any:
    """The type at ``parts`` below ``shape``; :data:`_UNKNOWN` if the shape has no such field."""
    for part in parts:
        if shape is None or shape is Any:
            return None
        if isinstance(shape, frozenset):
            if part not in shape:
                return _UNKNOWN
            shape = None
            continue
        shape = _unwrap_optional(shape)
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            field = shape.model_fields.get(part)
            if field is None:
                return _UNKNOWN
            shape = field.annotation
            continue
        if typing.get_origin(shape) is dict or shape is dict:
            return None
        return _UNKNOWN  # a scalar or a list has no named fields
    return shape


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


# -- Choice values: a comparison a field can satisfy -------------------------------------------------


def _choice_values(
    states: Mapping[str, Mapping[str, Any]], writers: Mapping[str, list[tuple[str, Any]]]
) -> list[TreeProblem]:
    problems = []
    for name, state in states.items():
        for rule in _comparisons(state.get("Choices") or []):
            variable = rule.get("Variable")
            operator = next((op for op in _EQUALS if op in rule), None)
            if operator is None or not isinstance(variable, str) or not _PLAIN_PATH.match(variable):
                continue
            parts = variable[2:].split(".")
            types_found = [
                _resolve(shape, parts[1:]) for _, shape in writers.get(parts[0], [])
            ]
            known = [annotation for annotation in types_found if annotation not in (_UNKNOWN, None)]
            if not known or len(known) < len(types_found):
                continue  # an unknown field is contract.read's problem; an untyped one accepts anything
            value = rule[operator]
            if not any(_accepts(annotation, value) for annotation in known):
                problems.append(TreeProblem(
                    name, "contract.value", f"compares {variable} with {value!r}, a value it never takes"
                    + _possible_values(known)
                ))
    return problems


def _comparisons(rules: Sequence[Any]) -> Iterator[Mapping[str, Any]]:
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        for combinator in ("And", "Or"):
            yield from _comparisons(rule.get(combinator) or [])
        if isinstance(rule.get("Not"), dict):
            yield from _comparisons([rule["Not"]])
        yield rule


def _possible_values(annotations: Sequence[Any]) -> str:
    values: list[str] = []
    for annotation in annotations:
        annotation = _unwrap_optional(annotation)
        if typing.get_origin(annotation) is typing.Literal:
            values += [str(value) for value in typing.get_args(annotation)]
        elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            values += [str(member.value) for member in annotation]
    return f" (it is one of {', '.join(sorted(set(values)))})" if values else ""


# -- Error handling ------------------------------------------------------------------------------------


def _error_names(handlers: Any) -> list[set[str]]:
    return [set(h.get("ErrorEquals") or []) for h in handlers or [] if isinstance(h, dict)]


def _error_handling(states: Mapping[str, Mapping[str, Any]], tasks: Mapping[str, _Task]) -> list[TreeProblem]:
    problems = []
    for name, task in tasks.items():
        retried = set().union(*_error_names(task.state.get("Retry")))
        catchers = _error_names(task.state.get("Catch"))
        caught = set().union(*catchers)
        if task.contract is not None and not task.callback:
            missing = sorted(LAMBDA_TRANSIENT_ERRORS - retried)
            if missing:
                problems.append(TreeProblem(name, "retry.lambda", f"does not retry {', '.join(missing)}"))
        if task.contract is not None:
            permanent = sorted(retried & (PERMANENT_ERRORS | {"States.ALL", "States.TaskFailed"}))
            if permanent:
                problems.append(TreeProblem(
                    name, "retry.permanent", f"retries {', '.join(permanent)}, which a retry cannot fix"
                ))
        if not _is_failure_recorder(task, states) and (not catchers or catchers[-1] != {"States.ALL"}):
            problems.append(TreeProblem(name, "catch.all", "its last catcher must be States.ALL, alone"))
        if task.callback and "States.Timeout" not in caught:
            problems.append(TreeProblem(
                name, "catch.timeout", "does not catch States.Timeout: silence would fail the journey"
            ))
        if task.function == "send_message" and _purpose(task) == "collection" and not _records_failure(task):
            named = set().union(*[names for names in catchers if names != {"States.ALL"}])
            missing = sorted(CHANNEL_FALLBACK_ERRORS - named)
            if missing:
                problems.append(TreeProblem(
                    name, "catch.channel", f"does not catch {', '.join(missing)}: a refused channel would "
                    "end the journey instead of moving to the next"
                ))
    return problems


def _purpose(task: _Task) -> str | None:
    payload = task.payload or {}
    if "purpose.$" in payload:
        return "collection"  # chosen at run time: it may be a collection send
    return payload.get("purpose", "collection")


def _records_failure(task: _Task) -> bool:
    """send_message given the error a send ended with: it records the failure and sends nothing."""
    payload = task.payload or {}
    return "failure.$" in payload or "failure" in payload


def _is_failure_recorder(task: _Task, states: Mapping[str, Mapping[str, Any]]) -> bool:
    """finish_journey leading straight to a Fail: the one Task that needs no catch-all."""
    following = states.get(task.state.get("Next", ""), {})
    return task.function == "finish_journey" and following.get("Type") == "Fail"


def _start_and_finish(
    definition: Mapping[str, Any], states: Mapping[str, Mapping[str, Any]], tasks: Mapping[str, _Task]
) -> list[TreeProblem]:
    problems = []
    start = definition.get("StartAt")
    if start in states and (start not in tasks or tasks[start].function != "assess_account"):
        problems.append(TreeProblem(str(start), "contract.start", "the first state must be assess_account"))
    elif start in states:
        after = states.get(states[start].get("Next", ""), {})
        if after.get("Type") != "Choice" or not any(
            variable == "$.response" or variable.startswith("$.response.")
            for rule in after.get("Choices") or []
            for variable in _choice_variables(rule)
        ):
            problems.append(TreeProblem(
                str(start), "contract.reply_start", "the state after the assessment must be a Choice that "
                "routes $.response (a journey started by a reply)"
            ))
    for name, state in states.items():
        ends = state.get("End") is True or state.get("Type") == "Succeed"
        if ends and (name not in tasks or tasks[name].function != "finish_journey"):
            problems.append(TreeProblem(
                name, "contract.finish", "ends the journey without finish_journey recording the outcome"
            ))
    for name, state in states.items():
        if state.get("Type") != "Fail":
            continue
        for source in sorted(_predecessors(states, name)):
            if source not in tasks or tasks[source].function != "finish_journey":
                problems.append(TreeProblem(
                    source, "contract.finish", f"goes to the Fail state {name} without finish_journey "
                    "recording the failure"
                ))
    return problems


def _choice_variables(rule: Any) -> Iterator[str]:
    """Every Variable a Choice rule reads, through And, Or and Not."""
    if not isinstance(rule, dict):
        return
    if isinstance(rule.get("Variable"), str):
        yield rule["Variable"]
    for nested in [*(rule.get("And") or []), *(rule.get("Or") or []), rule.get("Not")]:
        yield from _choice_variables(nested)


def _predecessors(states: Mapping[str, Mapping[str, Any]], target: str) -> set[str]:
    found = set()
    for name, state in states.items():
        targets = {state.get("Next"), state.get("Default")}
        targets |= {rule.get("Next") for rule in state.get("Choices") or [] if isinstance(rule, dict)}
        targets |= {catcher.get("Next") for catcher in state.get("Catch") or [] if isinstance(catcher, dict)}
        if target in targets:
            found.add(name)
    return found
