"""cfn-lint over every synthesized template: AWS's own resource schemas and rules."""

from __future__ import annotations

import json
import re

import pytest
from cfnlint.api import lint

pytestmark = pytest.mark.infra

# Regions each example client is meant for (jurisdiction -> region checked by cfn-lint).
REGIONS = {"ZA": "af-south-1", "UK": "eu-west-2", "US": "us-east-1"}


_REDUNDANT_ROLE_DEPENDENCY = re.compile(
    r"^'(?P<role>\w+)' dependency already enforced by a 'GetAtt' at "
    r"'Resources/(?P<resource>\w+)/Properties/(Role|RoleArn)'$"
)


def _is_redundant_role_dependency(match, template) -> bool:
    """W3005 on a resource whose DependsOn repeats the IAM role it already names by GetAtt.

    CDK always adds that explicit dependency for a function or state machine given a role; it is
    harmless, and this is the only form of W3005 tolerated.
    """
    found = _REDUNDANT_ROLE_DEPENDENCY.match(match.message) if match.rule.id == "W3005" else None
    if found is None:
        return False
    resources = template["Resources"]
    return (
        resources.get(found["role"], {}).get("Type") == "AWS::IAM::Role"
        and list(match.path[:2]) == ["Resources", found["resource"]]
    )


def test_template_is_clean_under_cfn_lint(stack):
    # Given the synthesized template of a client
    region = REGIONS[stack.client.jurisdiction.value]
    # When cfn-lint checks it for the client's region
    matches = lint(json.dumps(stack.template), regions=[region])
    # Then it reports nothing, beyond CDK's redundant function->role dependency
    remaining = [str(match) for match in matches if not _is_redundant_role_dependency(match, stack.template)]
    assert remaining == []


def test_cfn_lint_does_see_a_broken_function(synthesized):
    # Given one synthesized function, alone, given an architecture Lambda does not have
    stack = next(iter(synthesized.values()))
    function = json.loads(json.dumps(next(iter(stack.of_type("AWS::Lambda::Function").values()))))
    function.pop("DependsOn", None)
    properties = function["Properties"]
    properties.update(Architectures=["sparc"], Role="arn:aws:iam::123456789012:role/rapport-test")
    properties.pop("Layers")
    properties.pop("DeadLetterConfig", None)
    properties.pop("LoggingConfig", None)
    properties["Code"] = {"ZipFile": "def handler(event, context):\n    return event\n"}
    properties["Environment"]["Variables"] = {"RAPPORT_CLIENT_ID": stack.client.client_id}
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Function": function}}
    # When cfn-lint checks it
    matches = lint(json.dumps(template), regions=[REGIONS[stack.client.jurisdiction.value]])
    # Then it points at the architecture, and at nothing else (so the clean results above mean something)
    assert [list(match.path) for match in matches] == [
        ["Resources", "Function", "Properties", "Architectures", 0]
    ]
