"""What each client stack must guarantee, read from the synthesized CloudFormation template."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_

from rapport.settings import environment_names
from rapport.store.models import ALL_MODELS
from rapport_infra import catalogue
from rapport_infra.asl import route
from rapport_infra.layer import RUNTIME
from rapport_infra.permissions import UNSCOPED_ACTIONS

pytestmark = pytest.mark.infra


def _policy_statements(stack) -> list[tuple[str, dict[str, Any]]]:
    """(policy logical id, statement) of every identity policy in the template."""
    found = []
    for key, resource in stack.of_type("AWS::IAM::Policy").items():
        found.extend((key, statement) for statement in resource["Properties"]["PolicyDocument"]["Statement"])
    for key, resource in stack.of_type("AWS::IAM::Role").items():
        for policy in resource["Properties"].get("Policies", []):
            found.extend((key, statement) for statement in policy["PolicyDocument"]["Statement"])
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(stack, role_prefix: str) -> list[dict[str, Any]]:
    keys = [key for key in stack.of_type("AWS::IAM::Policy") if key.startswith(role_prefix)]
    assert len(keys) == 1, (role_prefix, keys)
    return stack.resources[keys[0]]["Properties"]["PolicyDocument"]["Statement"]


def _actions_on(statements: list[dict[str, Any]], action: str) -> list[Any]:
    """Every resource the statements allow ``action`` on."""
    return [
        resource for statement in statements if action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    ]


def _logical_id(stack, resource_type: str, name_property: str, name: str) -> str:
    matches = [key for key, resource in stack.of_type(resource_type).items()
               if resource["Properties"].get(name_property) == name]
    assert len(matches) == 1, (resource_type, name, matches)
    return matches[0]


def _own(stack, resource_type: str, name_property: str, suffix: str) -> str:
    """Logical id of the resource named ``rapport-<client_id>-<suffix>``."""
    return _logical_id(stack, resource_type, name_property, f"rapport-{stack.client.client_id}-{suffix}")


def _function_id(stack, function: str) -> str:
    return _own(stack, "AWS::Lambda::Function", "FunctionName", function.replace("_", "-"))


def _table_id(stack, short_name: str) -> str:
    return _own(stack, "AWS::DynamoDB::Table", "TableName", short_name)


def _references(value: Any) -> set[str]:
    """Logical ids a CloudFormation value points at (Ref and GetAtt, nested in Joins)."""
    text = json.dumps(value)
    return set(re.findall(r'"Ref": "([A-Za-z0-9]+)"', text)) | set(
        re.findall(r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', text)
    )


# --- IAM ---------------------------------------------------------------------------------------------

def test_wildcard_resources_only_for_actions_without_resource_level_permissions(stack):
    # Given every statement of every role in the stack
    for policy, statement in _policy_statements(stack):
        if statement["Effect"] != "Allow" or "*" not in _as_list(statement["Resource"]):
            continue
        # Then "*" is used only for actions AWS cannot scope
        assert set(_as_list(statement["Action"])) <= UNSCOPED_ACTIONS, (policy, statement)


def test_every_resource_is_the_clients_own(stack):
    # Given every resource named by an identity policy
    own = set(stack.resources)
    pseudo = {"AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::URLSuffix"}
    for policy, statement in _policy_statements(stack):
        for resource in _as_list(statement["Resource"]):
            if resource == "*":
                continue
            # Then it is a resource of this stack, or an ARN built in this account and region
            assert isinstance(resource, dict), (policy, resource)
            assert _references(resource) <= own | pseudo, (policy, resource)
            text = json.dumps(resource)
            assert not re.search(r"\d{12}", text), (policy, resource)
            assert "*" not in text, (policy, resource)
            if not _references(resource) & own:
                assert '"Ref": "AWS::AccountId"' in text, (policy, resource)


def test_tables_are_reachable_only_as_each_function_declares(stack):
    for spec in catalogue.FUNCTIONS:
        # Given the function's role and its declared reads and writes
        statements = _role_statements(stack, f"Functions{_camel(spec.name)}RoleDefaultPolicy")
        reads = {ref for r in _actions_on(statements, "dynamodb:Query") for ref in _references(r)}
        writes = {ref for r in _actions_on(statements, "dynamodb:PutItem") for ref in _references(r)}
        expected_reads = set(spec.reads) | ({"idempotency"} & set(spec.writes))
        # Then its table permissions name exactly those tables (and the read tables' indexes)
        assert reads == {_table_id(stack, name) for name in expected_reads}, spec.name
        assert writes == {_table_id(stack, name) for name in spec.writes}, spec.name
        assert not _actions_on(statements, "dynamodb:Scan"), spec.name


def test_read_permissions_include_each_index_of_the_table(stack):
    # Given the campaign function, which queries accounts by arrears segment
    statements = _role_statements(stack, "FunctionsCampaignRoleDefaultPolicy")
    resources = json.dumps(_actions_on(statements, "dynamodb:Query"))
    # Then each of the accounts table's indexes is named, and no index wildcard
    for index in ("arrears-index", "phone-index", "email-index"):
        assert f"/index/{index}" in resources
    assert "/index/*" not in resources


def test_journey_role_invokes_exactly_the_journey_functions(stack):
    # Given the state machine's role
    machine = _own(stack, "AWS::StepFunctions::StateMachine", "StateMachineName", "journey")
    role = stack.resources[machine]["Properties"]["RoleArn"]
    role_id = role["Fn::GetAtt"][0]
    statements = _role_statements(stack, role_id.removesuffix(role_id[-8:]) + "DefaultPolicy")
    invoked = {ref for r in _actions_on(statements, "lambda:InvokeFunction") for ref in _references(r)}
    # Then it may invoke the journey's functions and nothing else, and send only to send-failures
    assert invoked == {_function_id(stack, name) for name in catalogue.JOURNEY.functions}
    queue = _own(stack, "AWS::SQS::Queue", "QueueName", "send-failures")
    assert [_references(r) for r in _actions_on(statements, "sqs:SendMessage")] == [{queue}]


@pytest.mark.parametrize(("flag", "actions"), [
    ("starts_journeys", ("states:StartExecution",)),
    ("resumes_journeys", ("states:SendTaskSuccess", "states:SendTaskFailure")),
])
def test_journey_permissions_point_at_the_clients_journey_only(stack, flag, actions):
    for spec in catalogue.FUNCTIONS:
        statements = _role_statements(stack, f"Functions{_camel(spec.name)}RoleDefaultPolicy")
        for action in actions:
            resources = _actions_on(statements, action)
            # Then only functions flagged in the catalogue have the action, on this client's journey
            if getattr(spec, flag):
                assert len(resources) == 1, spec.name
                journey = f":stateMachine:rapport-{stack.client.client_id}-journey"
                assert resources[0]["Fn::Join"][1][-1] == journey, spec.name
            else:
                assert resources == [], (spec.name, action)


def test_sending_is_scoped_to_the_clients_identities(stack):
    # Given the send_message role
    statements = _role_statements(stack, "FunctionsSendMessageRoleDefaultPolicy")
    email = next(s for s in statements if s["Action"] == "ses:SendEmail")
    # Then email may only leave from the client's address, through its identity and configuration set
    assert email["Condition"] == {"StringEquals": {"ses:FromAddress": stack.client.contact.email_from}}
    identities = json.dumps(email["Resource"])
    assert f":identity/{stack.client.contact.email_from}" in identities
    assert ":configuration-set/" in identities
    # And no function but send_message may send at all
    for spec in catalogue.FUNCTIONS:
        if spec.name == "send_message":
            continue
        others = _role_statements(stack, f"Functions{_camel(spec.name)}RoleDefaultPolicy")
        sent = [a for s in others for a in _as_list(s["Action"]) if a.split(":")[0] in
                {"ses", "sms-voice", "social-messaging", "mobiletargeting", "sns"}]
        assert sent == [], spec.name


def test_payment_secret_is_read_only_by_functions_that_declare_it(stack):
    secret = next(iter(stack.of_type("AWS::SecretsManager::Secret")))
    for spec in catalogue.FUNCTIONS:
        statements = _role_statements(stack, f"Functions{_camel(spec.name)}RoleDefaultPolicy")
        readers = [_references(r) for r in _actions_on(statements, "secretsmanager:GetSecretValue")]
        assert readers == ([{secret}] if spec.reads_payment_secret else []), spec.name


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


# --- encryption, recovery, retention -----------------------------------------------------------------

def test_everything_at_rest_is_encrypted_with_the_client_key(stack):
    (key_id, key), = stack.of_type("AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    for table in stack.of_type("AWS::DynamoDB::Table").values():
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS"
        assert _references(sse["KMSMasterKeyId"]) == {key_id}
    for topic in stack.of_type("AWS::SNS::Topic").values():
        assert _references(topic["Properties"]["KmsMasterKeyId"]) == {key_id}
    for queue in stack.of_type("AWS::SQS::Queue").values():
        assert _references(queue["Properties"]["KmsMasterKeyId"]) == {key_id}
    for group in stack.of_type("AWS::Logs::LogGroup").values():
        assert _references(group["Properties"]["KmsKeyId"]) == {key_id}
        assert group["Properties"]["RetentionInDays"] == 90
    for secret in stack.of_type("AWS::SecretsManager::Secret").values():
        assert _references(secret["Properties"]["KmsKeyId"]) == {key_id}


def test_tables_recover_and_survive_teardown(stack):
    tables = stack.of_type("AWS::DynamoDB::Table")
    assert len(tables) == len(catalogue.TABLES)
    for table in tables.values():
        properties = table["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"


def test_table_keys_and_indexes_follow_the_models(stack):
    for model in ALL_MODELS:
        # Given a pynamodb model and its table in the stack
        properties = stack.resources[_table_id(stack, model.short_name)]["Properties"]
        schema = model._get_schema()
        # Then keys and indexes are the model's
        assert {k["AttributeName"]: k["KeyType"] for k in properties["KeySchema"]} == {
            k["AttributeName"]: k["KeyType"] for k in schema["key_schema"]}
        assert sorted(i["IndexName"] for i in properties.get("GlobalSecondaryIndexes", [])) == sorted(
            i["index_name"] for i in schema.get("global_secondary_indexes", []))


def test_only_idempotency_records_expire(stack):
    expiring = {key: table["Properties"]["TimeToLiveSpecification"]
                for key, table in stack.of_type("AWS::DynamoDB::Table").items()
                if "TimeToLiveSpecification" in table["Properties"]}
    assert expiring == {_table_id(stack, "idempotency"): {"AttributeName": "expiration", "Enabled": True}}
    idempotency = stack.resources[_table_id(stack, "idempotency")]["Properties"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


# --- functions ---------------------------------------------------------------------------------------

def test_runtime_is_the_newest_python_cdk_offers():
    names = [name for name in dir(lambda_.Runtime) if name.startswith("PYTHON_3_")]
    pythons = [getattr(lambda_.Runtime, name) for name in names]
    newest = max(pythons, key=lambda runtime: int(runtime.name.removeprefix("python3.")))
    assert RUNTIME.name == newest.name == "python3.14"


def test_every_catalogue_function_is_deployed_arm64_traced_and_configured(stack):
    functions = stack.of_type("AWS::Lambda::Function")
    assert len(functions) == len(catalogue.FUNCTIONS)
    allowed_variables = set(environment_names().values())
    for spec in catalogue.FUNCTIONS:
        properties = functions[_function_id(stack, spec.name)]["Properties"]
        assert properties["Architectures"] == ["arm64"]
        assert properties["Runtime"] == "python3.14"
        assert properties["Handler"] == spec.handler
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Timeout"] == spec.timeout_seconds and properties["MemorySize"] == spec.memory_mb
        assert "ReservedConcurrentExecutions" not in properties
        assert len(properties["Layers"]) == 2
        variables = properties["Environment"]["Variables"]
        assert variables["RAPPORT_CLIENT_CONFIG"] == f"/opt/rapport-client/{stack.client.client_id}.json"
        assert variables["RAPPORT_TABLE_PREFIX"] == f"rapport-{stack.client.client_id}"
        assert variables["RAPPORT_PAYMENT_SECRET_ID"] == f"rapport/{stack.client.client_id}/payments"
        assert variables["POWERTOOLS_SERVICE_NAME"] == spec.name
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
        assert {name for name in variables if not name.startswith("POWERTOOLS_")} <= allowed_variables


def test_asynchronously_invoked_functions_have_a_dead_letter_queue(stack):
    dlq = _own(stack, "AWS::SQS::Queue", "QueueName", "async-failures")
    for spec in catalogue.FUNCTIONS:
        properties = stack.resources[_function_id(stack, spec.name)]["Properties"]
        asynchronous = spec.trigger == "schedule" or spec.trigger.startswith("topic:")
        assert ("DeadLetterConfig" in properties) is asynchronous, spec.name
        if asynchronous:
            assert _references(properties["DeadLetterConfig"]) == {dlq}


def test_topic_triggered_functions_are_subscribed_with_a_dead_letter_queue(stack):
    subscriptions = stack.of_type("AWS::SNS::Subscription")
    for spec in catalogue.FUNCTIONS:
        if not spec.trigger.startswith("topic:"):
            continue
        topic = _own(stack, "AWS::SNS::Topic", "TopicName", spec.trigger.removeprefix("topic:"))
        mine = [s["Properties"] for s in subscriptions.values()
                if _references(s["Properties"]["Endpoint"]) == {_function_id(stack, spec.name)}]
        assert len(mine) == 1 and _references(mine[0]["TopicArn"]) == {topic}
        assert "RedrivePolicy" in mine[0]


# --- the journey -------------------------------------------------------------------------------------

def _journey(stack) -> tuple[dict[str, Any], dict[str, Any]]:
    (machine,) = stack.of_type("AWS::StepFunctions::StateMachine").values()
    return machine["Properties"], json.loads(machine["Properties"]["DefinitionString"])


def test_journey_is_standard_traced_and_logs_without_personal_data(stack):
    properties, _ = _journey(stack)
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_journey_substitutions_point_at_the_right_functions(stack):
    properties, _ = _journey(stack)
    substitutions = properties["DefinitionSubstitutions"]
    for name in catalogue.JOURNEY.functions:
        key = catalogue.function_spec(name).substitution_key
        assert _references(substitutions[key]) == {_function_id(stack, name)}, key
    assert "SendFailuresQueueUrl" in substitutions


@pytest.mark.parametrize(("analysis", "expected"), [
    ({"intent": "hardship", "vulnerable": False}, "PlaceHold"),
    ({"intent": "promise_to_pay", "vulnerable": True}, "PlaceHold"),
    ({"intent": "payment_plan_request", "vulnerable": False}, "OfferPlan"),
    ({"intent": "question", "vulnerable": False}, "AnswerReply"),
])
def test_deployed_journey_routes_replies(stack, analysis, expected):
    # Given the definition as CloudFormation will receive it
    _, definition = _journey(stack)
    # Then its reply routing is the one the journey file declares
    assert route(definition, "RouteReply", {"analysis": analysis}) == expected


# --- triggers: API, schedules, SES -------------------------------------------------------------------

def test_webhook_api_fronts_payment_webhook_behind_waf(stack):
    (method,) = stack.of_type("AWS::ApiGateway::Method").values()
    properties = method["Properties"]
    assert properties["HttpMethod"] == "POST"
    assert properties["Integration"]["Type"] == "AWS_PROXY"
    assert _function_id(stack, "payment_webhook") in _references(properties["Integration"]["Uri"])
    assert properties["RequestParameters"] == {"method.request.path.provider": True}
    assert "RequestValidatorId" in properties
    (stage_id, stage), = stack.of_type("AWS::ApiGateway::Stage").items()
    settings = stage["Properties"]["MethodSettings"][0]
    assert settings["ThrottlingRateLimit"] == 50 and settings["ThrottlingBurstLimit"] == 100
    assert settings["DataTraceEnabled"] is False
    assert "AccessLogSetting" in stage["Properties"]
    (association,) = stack.of_type("AWS::WAFv2::WebACLAssociation").values()
    assert stage_id in _references(association["Properties"]["ResourceArn"])
    (acl,) = stack.of_type("AWS::WAFv2::WebACL").values()
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= set(rules)
    assert rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"


def test_each_enabled_campaign_is_scheduled_in_the_clients_time_zone(stack):
    schedules = {
        schedule["Properties"]["Name"]: schedule["Properties"]
        for schedule in stack.of_type("AWS::Scheduler::Schedule").values()
    }
    enabled = [campaign for campaign in stack.client.campaigns if campaign.enabled]
    assert sorted(schedules) == sorted(campaign.name for campaign in enabled)
    for campaign in enabled:
        schedule = schedules[campaign.name]
        assert schedule["ScheduleExpressionTimezone"] == stack.client.timezone
        assert schedule["ScheduleExpression"] == campaign.schedule
        target = schedule["Target"]
        assert json.loads(target["Input"]) == {"campaign": campaign.name}
        assert _function_id(stack, "campaign") in _references(target["Arn"])
        assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_ses_events_reach_the_delivery_events_topic(stack):
    (destination,) = stack.of_type("AWS::SES::ConfigurationSetEventDestination").values()
    topic = _own(stack, "AWS::SNS::Topic", "TopicName", "delivery-events")
    event_destination = destination["Properties"]["EventDestination"]
    assert _references(event_destination["SnsDestination"]) == {topic}
    assert {"bounce", "complaint", "delivery"} <= set(event_destination["MatchingEventTypes"])


# --- monitoring --------------------------------------------------------------------------------------

def test_alarms_cover_functions_queues_journey_and_api(stack):
    alarms = [a["Properties"] for a in stack.of_type("AWS::CloudWatch::Alarm").values()]
    (topic_id,) = [key for key, t in stack.of_type("AWS::SNS::Topic").items()
                   if t["Properties"]["TopicName"].endswith("-alarms")]
    assert all(_references(a["AlarmActions"]) == {topic_id} for a in alarms)
    by_metric: dict[str, int] = {}
    for alarm in alarms:
        by_metric[alarm["MetricName"]] = by_metric.get(alarm["MetricName"], 0) + 1
    assert by_metric["Errors"] == by_metric["Throttles"] == len(catalogue.FUNCTIONS)
    assert by_metric["ApproximateNumberOfMessagesVisible"] == 3
    assert by_metric["ExecutionsFailed"] == by_metric["ExecutionsTimedOut"] == 1
    assert by_metric["5XXError"] == 1
    assert len(stack.of_type("AWS::CloudWatch::Dashboard")) == 1
