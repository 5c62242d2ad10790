"""What each client stack must guarantee, read from the synthesized CloudFormation template.

Every test walks the catalogue (functions, tables, topics, state machines) and the client file, so a
function, table or campaign added there is held to the same rules without a new test.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_

from rapport.messaging.delivery import SMS_EVENT_TYPES
from rapport.payments.collection_delivery import OUTGOING, SENT
from rapport.settings import environment_names
from rapport.store.models import ALL_MODELS, IDEMPOTENCY_TABLE
from rapport_infra import catalogue
from rapport_infra.application import client_files
from rapport_infra.asl import load_definition, task_resources
from rapport_infra.layer import RUNTIME
from rapport_infra.permissions import UNSCOPED_ACTIONS
from rapport_infra.waf_logs import REDACTED_HEADERS, waf_log_group_name

pytestmark = pytest.mark.infra

# API Gateway REST integrations give up after 29 seconds (the default integration timeout).
API_INTEGRATION_TIMEOUT_SECONDS = 29
SENDING_SERVICES = frozenset({"ses", "sms-voice", "social-messaging", "mobiletargeting", "sns"})
LOG_RETENTION_DAYS = 90  # cdk.json's rapport:logRetentionDays, which the test synthesis does not override


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


def _role_statements(stack, role_id: str) -> list[dict[str, Any]]:
    """Every statement that applies to one role: attached policies and inline ones."""
    statements = [
        statement
        for policy in stack.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    for policy in stack.resources[role_id]["Properties"].get("Policies", []):
        statements.extend(policy["PolicyDocument"]["Statement"])
    assert statements, role_id
    return statements


def _function_role(stack, function: str) -> str:
    return stack.resources[_function_id(stack, function)]["Properties"]["Role"]["Fn::GetAtt"][0]


def _function_statements(stack, function: str) -> list[dict[str, Any]]:
    return _role_statements(stack, _function_role(stack, function))


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


def _render(value: Any) -> str:
    """A string or ``Fn::Join`` as text, each ``Ref`` written ``${Name}``."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    separator, parts = value["Fn::Join"]
    return separator.join(_render(part) for part in parts)


def _collections_bucket(stack) -> str:
    (bucket,) = stack.of_type("AWS::S3::Bucket")
    return bucket


def _bucket_objects(bucket: str, prefix: str) -> dict[str, Any]:
    """The ARN of every object under ``prefix`` of the stack's bucket, as CDK writes it."""
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{prefix}*"]]}


def _the_function(trigger: str) -> catalogue.FunctionSpec:
    (spec,) = [spec for spec in catalogue.FUNCTIONS if spec.trigger == trigger]
    return spec


def _table_reads(spec: catalogue.FunctionSpec) -> set[str]:
    # Powertools' idempotency utility reads its own records back, so writing that table implies reading it.
    return set(spec.reads) | ({IDEMPOTENCY_TABLE} & set(spec.writes))


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
    # The one wildcard allowed: the objects under a collection-file prefix of the client's own bucket
    object_prefixes = [_bucket_objects(_collections_bucket(stack), prefix) for prefix in (OUTGOING, SENT)]
    for policy, statement in _policy_statements(stack):
        for resource in _as_list(statement["Resource"]):
            if resource == "*" or resource in object_prefixes:
                continue
            # Then it is a resource of this stack, or an ARN built in this account and region
            assert isinstance(resource, dict), (policy, resource)
            assert _references(resource) <= own | pseudo, (policy, resource)
            text = json.dumps(resource)
            assert not re.search(r"\d{12}", text), (policy, resource)
            assert "*" not in text, (policy, resource)
            if not _references(resource) & own:
                assert '"Ref": "AWS::AccountId"' in text, (policy, resource)


def test_each_function_has_a_role_of_its_own(stack):
    # Given the role every catalogue function runs with
    roles = [_function_role(stack, spec.name) for spec in catalogue.FUNCTIONS]
    # Then no two functions share one, so no function inherits another's permissions
    assert len(set(roles)) == len(roles)


def test_tables_are_reachable_only_as_each_function_declares(stack):
    for spec in catalogue.FUNCTIONS:
        # Given the function's role and its declared reads and writes
        statements = _function_statements(stack, spec.name)
        reads = {ref for r in _actions_on(statements, "dynamodb:Query") for ref in _references(r)}
        writes = {ref for r in _actions_on(statements, "dynamodb:PutItem") for ref in _references(r)}
        # Then its table permissions name exactly those tables (and the read tables' indexes)
        assert reads == {_table_id(stack, name) for name in _table_reads(spec)}, spec.name
        assert writes == {_table_id(stack, name) for name in spec.writes}, spec.name
        assert not _actions_on(statements, "dynamodb:Scan"), spec.name


def test_read_permissions_name_each_index_of_the_tables_read(stack):
    indexes = {
        model.short_name: {index["index_name"] for index in model._get_schema().get("global_secondary_indexes", [])}
        for model in ALL_MODELS
    }
    for spec in catalogue.FUNCTIONS:
        # Given the resources a function may query
        resources = _actions_on(_function_statements(stack, spec.name), "dynamodb:Query")
        granted = set()
        for resource in resources:
            index = re.search(r'/index/([^"]+)"', json.dumps(resource))
            if index:
                (table,) = _references(resource)
                granted.add((table, index.group(1)))
        # Then they are exactly the indexes the models declare on the tables it reads, none by wildcard
        expected = {(_table_id(stack, name), index) for name in _table_reads(spec) for index in indexes.get(name, ())}
        assert granted == expected, spec.name
        assert "/index/*" not in json.dumps(resources), spec.name


def test_only_the_campaign_function_may_invoke_a_function_and_only_itself(stack):
    # Given every catalogue function's role
    campaign = stack.resources[_function_id(stack, "campaign")]["Properties"]
    for spec in catalogue.FUNCTIONS:
        role = stack.resources[_function_id(stack, spec.name)]["Properties"]["Role"]["Fn::GetAtt"][0]
        invoked = _actions_on(_role_statements(stack, role), "lambda:InvokeFunction")
        if spec.name != "campaign":
            # Then no other function may invoke any
            assert invoked == [], spec.name
            continue
        # And the campaign may invoke exactly its own name (to hand over a long run), no wildcard
        (resource,) = invoked
        text = json.dumps(resource)
        assert text.endswith(f':function:{campaign["FunctionName"]}"]]}}') and "*" not in text


def test_journey_role_invokes_exactly_the_journey_functions(stack):
    # Given the state machine's role
    properties, _ = _journey(stack)
    statements = _role_statements(stack, properties["RoleArn"]["Fn::GetAtt"][0])
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
    journey = f"${{AWS::AccountId}}:stateMachine:rapport-{stack.client.client_id}-journey"
    for spec in catalogue.FUNCTIONS:
        statements = _function_statements(stack, spec.name)
        for action in actions:
            resources = _actions_on(statements, action)
            # Then only functions flagged in the catalogue have the action, on this client's journey
            if getattr(spec, flag):
                assert [_render(resource).endswith(journey) for resource in resources] == [True], spec.name
            else:
                assert resources == [], (spec.name, action)


def test_only_functions_that_declare_a_channel_may_send_on_it(stack):
    contact = stack.client.contact
    for spec in catalogue.FUNCTIONS:
        # Given the sending actions a function's role allows, and what its spec and the client declare
        statements = _function_statements(stack, spec.name)
        allowed = {action for statement in statements for action in _as_list(statement["Action"])
                   if action.split(":")[0] in SENDING_SERVICES}
        expected = set()
        if "email" in spec.sends:
            expected.add("ses:SendEmail")
        if "sms" in spec.sends:
            expected.add("sns:Publish")
            if contact.sms_origination_identity:
                expected.add("sms-voice:SendTextMessage")
        if "whatsapp" in spec.sends and contact.whatsapp_phone_number_id:
            expected.add("social-messaging:SendWhatsAppMessage")
        if "push" in spec.sends and contact.push_application_id:
            expected.add("mobiletargeting:SendMessages")
        # Then it may send on those channels and no others
        assert allowed == expected, spec.name


def test_email_leaves_only_from_the_clients_identity_and_configuration_set(stack):
    contact = stack.client.contact
    configuration_set = _logical_id(stack, "AWS::SES::ConfigurationSet", "Name",
                                    contact.ses_configuration_set or f"rapport-{stack.client.client_id}")
    senders = [spec for spec in catalogue.FUNCTIONS if "email" in spec.sends]
    assert senders
    for spec in senders:
        # Given the email statement of a function that sends email
        (email,) = [s for s in _function_statements(stack, spec.name) if "ses:SendEmail" in _as_list(s["Action"])]
        # Then mail may only leave from the client's address, through its identity and configuration set
        assert email["Condition"] == {"StringEquals": {"ses:FromAddress": contact.email_from}}
        resources = sorted(_render(resource) for resource in email["Resource"])
        domain = contact.email_from.rpartition("@")[2]
        prefix = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
        assert resources == sorted([
            f"{prefix}identity/{domain}", f"{prefix}identity/{contact.email_from}",
            f"{prefix}configuration-set/${{{configuration_set}}}",
        ]), spec.name


def test_payment_secret_is_read_only_by_functions_that_declare_it(stack):
    secret = _logical_id(stack, "AWS::SecretsManager::Secret", "Name",
                         catalogue.payment_secret_name(stack.client.client_id))
    for spec in catalogue.FUNCTIONS:
        statements = _function_statements(stack, spec.name)
        readers = [_references(r) for r in _actions_on(statements, "secretsmanager:GetSecretValue")]
        assert readers == ([{secret}] if spec.reads_payment_secret else []), spec.name


def test_no_secret_value_travels_in_the_template(stack):
    # Given the payment and SFTP secrets and every function's environment
    secrets = stack.of_type("AWS::SecretsManager::Secret").values()
    assert len(secrets) == 2
    # Then each secret's value is generated by Secrets Manager, never written into the template
    for secret in secrets:
        assert "SecretString" not in secret["Properties"]
        assert "GenerateSecretString" in secret["Properties"]
    # And functions receive only the secret's name, never a credential
    credential = re.compile(r"SECRET|PASSWORD|PASSPHRASE|TOKEN|PRIVATE|API_KEY", re.IGNORECASE)
    for spec in catalogue.FUNCTIONS:
        variables = stack.resources[_function_id(stack, spec.name)]["Properties"]["Environment"]["Variables"]
        for name, value in variables.items():
            if credential.search(name):
                assert (name, value) == (
                    "RAPPORT_PAYMENT_SECRET_ID", catalogue.payment_secret_name(stack.client.client_id)
                ), spec.name


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
        assert group["Properties"]["RetentionInDays"] == LOG_RETENTION_DAYS
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


def test_tables_expire_exactly_what_the_models_let_expire(stack):
    # Given the models that carry a TTL attribute, and Powertools' idempotency records
    expected = {
        _table_id(stack, model.short_name): {"AttributeName": model._ttl_attribute().attr_name, "Enabled": True}
        for model in ALL_MODELS if model._ttl_attribute() is not None
    }
    expected[_table_id(stack, IDEMPOTENCY_TABLE)] = {"AttributeName": "expiration", "Enabled": True}
    # Then those tables, and only those, have DynamoDB delete the expired items
    expiring = {key: table["Properties"]["TimeToLiveSpecification"]
                for key, table in stack.of_type("AWS::DynamoDB::Table").items()
                if "TimeToLiveSpecification" in table["Properties"]}
    assert expiring == expected
    idempotency = stack.resources[_table_id(stack, IDEMPOTENCY_TABLE)]["Properties"]
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
        assert _references(properties["LoggingConfig"]["LogGroup"]) == {
            _logical_id(stack, "AWS::Logs::LogGroup", "LogGroupName", f"/aws/lambda/{properties['FunctionName']}")
        }
        variables = properties["Environment"]["Variables"]
        assert variables["RAPPORT_CLIENT_CONFIG"] == f"/opt/rapport-client/{stack.client.client_id}.json"
        assert variables["RAPPORT_TABLE_PREFIX"] == f"rapport-{stack.client.client_id}"
        assert variables["RAPPORT_PAYMENT_SECRET_ID"] == f"rapport/{stack.client.client_id}/payments"
        assert variables["POWERTOOLS_SERVICE_NAME"] == spec.name
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
        assert variables["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"
        assert {name for name in variables if not name.startswith("POWERTOOLS_")} <= allowed_variables


def _journey_task_timeouts(definition: dict[str, Any]) -> dict[str, list[int]]:
    """Function name -> the TimeoutSeconds of each synchronous journey Task that invokes it."""
    by_key = {spec.substitution_key: spec.name for spec in catalogue.FUNCTIONS}
    timeouts: dict[str, list[int]] = {}
    for _, state in task_resources(definition):
        if state["Resource"].endswith(".waitForTaskToken") or "TimeoutSeconds" not in state:
            continue  # a callback's timeout is how long to wait for the debtor, not for the function
        target = state["Resource"] if state["Resource"].startswith("${") else state.get("Parameters", {}).get(
            "FunctionName", "")
        key = target.removeprefix("${").removesuffix("}")
        if key in by_key:
            timeouts.setdefault(by_key[key], []).append(state["TimeoutSeconds"])
    return timeouts


def test_timeouts_and_memory_fit_what_invokes_each_function(stack):
    # Given the journey Tasks' own timeouts
    _, definition = _journey(stack)
    task_timeouts = _journey_task_timeouts(definition)
    assert task_timeouts
    for spec in catalogue.FUNCTIONS:
        properties = stack.resources[_function_id(stack, spec.name)]["Properties"]
        timeout = properties["Timeout"]
        # Then every function stays inside Lambda's limits
        assert 3 <= timeout <= 900, spec.name
        assert 128 <= properties["MemorySize"] <= 10240, spec.name
        # And the webhook function answers before API Gateway gives up on it (the provider would retry)
        if spec.trigger == "api":
            assert timeout <= API_INTEGRATION_TIMEOUT_SECONDS, spec.name
        # And a journey Task waits longer than its function may run, so a slow run is not cut short twice
        for task_timeout in task_timeouts.get(spec.name, []):
            assert timeout < task_timeout, spec.name


def test_asynchronously_invoked_functions_have_a_dead_letter_queue(stack):
    dlq = _own(stack, "AWS::SQS::Queue", "QueueName", "async-failures")
    invoke_configs = {
        next(iter(_references(config["Properties"]["FunctionName"]))): config["Properties"]
        for config in stack.of_type("AWS::Lambda::EventInvokeConfig").values()
    }
    for spec in catalogue.FUNCTIONS:
        function = _function_id(stack, spec.name)
        properties = stack.resources[function]["Properties"]
        asynchronous = spec.trigger in catalogue.SCHEDULES or spec.trigger.startswith("topic:")
        # Then a function invoked asynchronously retries a bounded number of times, then parks the event
        assert ("DeadLetterConfig" in properties) is asynchronous, spec.name
        assert (function in invoke_configs) is asynchronous, spec.name
        if asynchronous:
            assert _references(properties["DeadLetterConfig"]) == {dlq}
            assert invoke_configs[function]["MaximumRetryAttempts"] == 2
            assert invoke_configs[function]["MaximumEventAgeInSeconds"] <= 6 * 3600


def test_topic_triggered_functions_are_subscribed_with_a_dead_letter_queue(stack):
    subscriptions = stack.of_type("AWS::SNS::Subscription")
    dlq = _own(stack, "AWS::SQS::Queue", "QueueName", "async-failures")
    for spec in catalogue.FUNCTIONS:
        if not spec.trigger.startswith("topic:"):
            continue
        topic = _own(stack, "AWS::SNS::Topic", "TopicName", spec.trigger.removeprefix("topic:"))
        mine = [s["Properties"] for s in subscriptions.values()
                if _references(s["Properties"]["Endpoint"]) == {_function_id(stack, spec.name)}]
        assert len(mine) == 1 and _references(mine[0]["TopicArn"]) == {topic}, spec.name
        assert _references(mine[0]["RedrivePolicy"]) == {dlq}, spec.name


# --- the journey -------------------------------------------------------------------------------------

def _journey(stack) -> tuple[dict[str, Any], dict[str, Any]]:
    (machine,) = stack.of_type("AWS::StepFunctions::StateMachine").values()
    return machine["Properties"], json.loads(machine["Properties"]["DefinitionString"])


def test_journey_is_standard_traced_and_logs_without_personal_data(stack):
    properties, _ = _journey(stack)
    assert properties["StateMachineType"] == "STANDARD"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    logging = properties["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False
    (destination,) = logging["Destinations"]
    group = _logical_id(stack, "AWS::Logs::LogGroup", "LogGroupName",
                        f"/aws/vendedlogs/states/rapport-{stack.client.client_id}-journey")
    assert _references(destination) == {group}


def test_deployed_journey_is_the_checked_definition_file(stack):
    # Given the definition file the client names (or the standard journey)
    (client_file,) = client_files(stack.client.client_id)
    path = (
        (client_file.parent / stack.client.state_machine).resolve() if stack.client.state_machine
        else catalogue.JOURNEY.definition_file
    )
    # Then the deployed definition is that file, unchanged: its structural and routing tests hold for it
    _, deployed = _journey(stack)
    assert deployed == load_definition(path)


def test_journey_substitutions_point_at_the_right_functions(stack):
    properties, _ = _journey(stack)
    substitutions = properties["DefinitionSubstitutions"]
    for name in catalogue.JOURNEY.functions:
        key = catalogue.function_spec(name).substitution_key
        assert _references(substitutions[key]) == {_function_id(stack, name)}, key
    queue = _own(stack, "AWS::SQS::Queue", "QueueName", "send-failures")
    assert _references(substitutions["SendFailuresQueueUrl"]) == {queue}
    assert set(substitutions) == {
        *(catalogue.function_spec(name).substitution_key for name in catalogue.JOURNEY.functions),
        "SendFailuresQueueUrl",
    }


# --- triggers: API, WAF, schedules, SES --------------------------------------------------------------

def _api_method(stack, function: str) -> dict:
    """The one API method whose proxy integration invokes ``function``."""
    (method,) = [method["Properties"] for method in stack.of_type("AWS::ApiGateway::Method").values()
                 if _function_id(stack, function) in _references(method["Properties"]["Integration"]["Uri"])]
    return method


def test_every_api_function_is_behind_a_validated_route(stack):
    # Given the API's methods and the catalogue's API-triggered functions
    methods = [method["Properties"] for method in stack.of_type("AWS::ApiGateway::Method").values()]
    functions = set(stack.of_type("AWS::Lambda::Function"))
    api_functions = sorted(_function_id(stack, spec.name) for spec in catalogue.FUNCTIONS if spec.trigger == "api")
    assert api_functions
    # Then each API function has exactly one route, and every route is validated and proxied to one:
    # a POST, except the plan pay link that a debtor opens from a message (a GET)
    targets = []
    pay_link = _function_id(stack, "pay_plan")
    for method in methods:
        expected = "GET" if pay_link in _references(method["Integration"]["Uri"]) else "POST"
        assert method["HttpMethod"] == expected
        assert method["Integration"]["Type"] == "AWS_PROXY"
        assert "RequestValidatorId" in method
        assert method["RequestParameters"] and set(method["RequestParameters"].values()) == {True}
        (target,) = _references(method["Integration"]["Uri"]) & functions
        targets.append(target)
    assert sorted(targets) == api_functions
    # And payment providers post to /webhooks/{provider}, the provider segment required
    (webhook,) = [m for m, target in zip(methods, targets, strict=True)
                  if target == _function_id(stack, "payment_webhook")]
    assert webhook["RequestParameters"] == {"method.request.path.provider": True}
    # And no body model stops a malformed delivery at the gateway: the function answers and records it
    assert "RequestModels" not in webhook
    validator = stack.resources[webhook["RequestValidatorId"]["Ref"]]["Properties"]
    assert validator["ValidateRequestParameters"] is True and validator["ValidateRequestBody"] is False


def test_webhook_api_is_throttled_traced_and_access_logged(stack):
    (stage,) = stack.of_type("AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["HttpMethod"], settings["ResourcePath"]) == ("*", "/*")
    assert settings["ThrottlingRateLimit"] == 50 and settings["ThrottlingBurstLimit"] == 100
    assert settings["DataTraceEnabled"] is False
    assert stage["Properties"]["TracingEnabled"] is True
    # Access logs go to the API's own encrypted group, one JSON line per request and never a body
    access = stage["Properties"]["AccessLogSetting"]
    group = _logical_id(stack, "AWS::Logs::LogGroup", "LogGroupName",
                        f"/aws/apigateway/rapport-{stack.client.client_id}-webhooks")
    assert _references(access["DestinationArn"]) == {group}
    fields = json.loads(access["Format"])
    assert {"requestId", "ip", "status", "resourcePath"} <= set(fields)
    assert not [value for value in fields.values() if "$input" in value or "body" in value.lower()]


def test_plan_acceptance_is_a_post_to_its_own_route_on_the_same_api(stack):
    # Given the method that invokes accept_plan
    properties = _api_method(stack, "accept_plan")
    # Then it is POST /plans/{plan_id}/accept, validated like the webhooks, behind the same stage
    assert properties["HttpMethod"] == "POST"
    assert properties["Integration"]["Type"] == "AWS_PROXY"
    assert properties["RequestParameters"] == {"method.request.path.plan_id": True}
    assert "RequestValidatorId" in properties
    resource = stack.resources[properties["ResourceId"]["Ref"]]["Properties"]
    assert resource["PathPart"] == "accept"
    parent = stack.resources[resource["ParentId"]["Ref"]]["Properties"]
    assert parent["PathPart"] == "{plan_id}"


def test_the_plan_pay_link_is_a_get_with_a_required_token_beside_the_acceptance(stack):
    # Given the method that invokes pay_plan, and the one that invokes accept_plan
    properties = _api_method(stack, "pay_plan")
    accept = _api_method(stack, "accept_plan")
    # Then it is GET /plans/{plan_id}/pay, proxied, validated, with the token required in the query
    assert properties["HttpMethod"] == "GET"
    assert properties["Integration"]["Type"] == "AWS_PROXY"
    assert properties["AuthorizationType"] == "NONE"
    assert properties["RequestParameters"] == {
        "method.request.path.plan_id": True, "method.request.querystring.token": True,
    }
    assert "RequestValidatorId" in properties
    resource = stack.resources[properties["ResourceId"]["Ref"]]["Properties"]
    assert resource["PathPart"] == "pay"
    # And it hangs off the same /plans/{plan_id} resource as the acceptance, on the same stage and WAF
    accept_resource = stack.resources[accept["ResourceId"]["Ref"]]["Properties"]
    assert resource["ParentId"] == accept_resource["ParentId"]
    assert properties["RestApiId"] == accept["RestApiId"]


@pytest.mark.parametrize(
    ("function", "path_part"), [("record_agent_promise", "promises"), ("register_device", "devices")]
)
def test_the_client_systems_routes_are_iam_authorised_posts_under_the_account(stack, function, path_part):
    # Given the method that invokes the agents' promise function, or the app's device registration
    properties = _api_method(stack, function)
    # Then it is POST /accounts/{account_id}/<part>, proxied and validated, and only a SigV4-signed caller
    # with execute-api:Invoke on it gets through (AWS_IAM), on the same API, stage and WAF as the webhooks
    assert properties["HttpMethod"] == "POST"
    assert properties["AuthorizationType"] == "AWS_IAM"
    assert properties["Integration"]["Type"] == "AWS_PROXY"
    assert properties["RequestParameters"] == {"method.request.path.account_id": True}
    assert "RequestValidatorId" in properties
    resource = stack.resources[properties["ResourceId"]["Ref"]]["Properties"]
    assert resource["PathPart"] == path_part
    parent = stack.resources[resource["ParentId"]["Ref"]]["Properties"]
    assert parent["PathPart"] == "{account_id}"
    assert properties["RestApiId"] == _api_method(stack, "payment_webhook")["RestApiId"]


def test_the_agents_promise_function_resumes_journeys_and_the_device_function_touches_only_accounts(stack):
    # Given what each function may do
    promises = _function_statements(stack, "record_agent_promise")
    devices = _function_statements(stack, "register_device")
    # Then the promise function may hand a promise to the client's journey; the device function may not
    assert _actions_on(promises, "states:SendTaskSuccess")
    assert not [a for st in devices for a in _as_list(st["Action"]) if a.startswith("states:")]
    # And the device function writes the account and the audit trail, nothing else, and sends nothing
    written = {ref for r in _actions_on(devices, "dynamodb:UpdateItem") for ref in _references(r)}
    written |= {ref for r in _actions_on(devices, "dynamodb:PutItem") for ref in _references(r)}
    assert written == {_table_id(stack, name) for name in ("accounts", "audit")}
    assert not {a for st in devices for a in _as_list(st["Action"]) if a.split(":")[0] in SENDING_SERVICES}


def test_the_pay_link_function_cannot_reach_accounts_journeys_or_messages(stack):
    # Given the function behind a link anyone holding it (or a mail scanner) may open
    spec = catalogue.function_spec("pay_plan")
    statements = _function_statements(stack, "pay_plan")
    actions = {action for statement in statements for action in _as_list(statement["Action"])}
    # Then it reads plans and links, writes plans (the checkouts it keeps) and the audit trail, and
    # reads the payment secret; it neither touches accounts or journeys nor starts, resumes or sends
    assert (set(spec.reads), set(spec.writes)) == ({"plans", "links"}, {"plans", "audit"})
    touched = {ref for r in _actions_on(statements, "dynamodb:GetItem") for ref in _references(r)}
    touched |= {ref for r in _actions_on(statements, "dynamodb:PutItem") for ref in _references(r)}
    assert touched == {_table_id(stack, name) for name in ("plans", "links", "audit")}
    assert not {action for action in actions if action.startswith("states:")}
    assert not {action for action in actions if action.split(":")[0] in SENDING_SERVICES}
    assert "secretsmanager:GetSecretValue" in actions


def test_webhook_api_is_behind_waf(stack):
    (stage_id,) = stack.of_type("AWS::ApiGateway::Stage")
    (acl_id, acl), = stack.of_type("AWS::WAFv2::WebACL").items()
    (association,) = stack.of_type("AWS::WAFv2::WebACLAssociation").values()
    assert stage_id in _references(association["Properties"]["ResourceArn"])
    assert _references(association["Properties"]["WebACLArn"]) == {acl_id}
    assert acl["Properties"]["Scope"] == "REGIONAL"
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAmazonIpReputationList"} <= set(rules)
    rate = rules["RateLimitPerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"] == {"AggregateKeyType": "IP", "Limit": 1000}


def test_waf_logs_every_request_into_an_encrypted_group_without_credentials(stack):
    # Given the web ACL and its logging configuration
    (acl_id,) = stack.of_type("AWS::WAFv2::WebACL")
    (logging,) = stack.of_type("AWS::WAFv2::LoggingConfiguration").values()
    properties = logging["Properties"]
    assert properties["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    # Then WAF writes into the client's aws-waf-logs-* group, named by its bare ARN (WAF refuses ":*")
    name = waf_log_group_name(stack.client.client_id)
    assert name.startswith("aws-waf-logs-")
    group = _logical_id(stack, "AWS::Logs::LogGroup", "LogGroupName", name)
    (destination,) = properties["LogDestinationConfigs"]
    assert _render(destination) == (
        f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}"
    )
    assert group in logging["DependsOn"]
    # And that group is encrypted with the client key and kept as long as the other logs
    (key_id,) = stack.of_type("AWS::KMS::Key")
    assert _references(stack.resources[group]["Properties"]["KmsKeyId"]) == {key_id}
    assert stack.resources[group]["Properties"]["RetentionInDays"] == LOG_RETENTION_DAYS
    # And every request is logged, with the authorization and signature headers cut out, and the
    # query string, where a plan link carries its token
    assert "LoggingFilter" not in properties
    fields = properties["RedactedFields"]
    redacted = [field["SingleHeader"]["Name"] for field in fields if "SingleHeader" in field]
    assert sorted(redacted) == sorted(REDACTED_HEADERS)
    assert [field for field in fields if "SingleHeader" not in field] == [{"QueryString": {}}]
    assert {"authorization", "svix-signature", "x-paystack-signature"} <= set(redacted)


def _schedules_in_group(stack, group_name: str) -> dict[str, dict[str, Any]]:
    """Name -> properties of every schedule in the named schedule group."""
    group = _logical_id(stack, "AWS::Scheduler::ScheduleGroup", "Name", group_name)
    return {
        schedule["Properties"]["Name"]: schedule["Properties"]
        for schedule in stack.of_type("AWS::Scheduler::Schedule").values()
        if _references(schedule["Properties"]["GroupName"]) == {group}
    }


def test_every_schedule_is_in_a_group_of_the_client(stack):
    groups = {f"rapport-{stack.client.client_id}", f"rapport-{stack.client.client_id}-plans"}
    if stack.client.payments.debicheck_collections is not None:
        groups.add(f"rapport-{stack.client.client_id}-collections")
    declared = stack.of_type("AWS::Scheduler::ScheduleGroup").values()
    assert {group["Properties"]["Name"] for group in declared} == groups
    grouped = sum(len(_schedules_in_group(stack, group)) for group in groups)
    assert grouped == len(stack.of_type("AWS::Scheduler::Schedule"))


def test_each_enabled_campaign_is_scheduled_in_the_clients_time_zone(stack):
    schedules = _schedules_in_group(stack, f"rapport-{stack.client.client_id}")
    enabled = [campaign for campaign in stack.client.campaigns if campaign.enabled]
    assert enabled
    assert sorted(schedules) == sorted(campaign.name for campaign in enabled)
    campaign_function = _function_id(stack, _the_function(catalogue.SCHEDULE_CAMPAIGNS).name)
    for campaign in enabled:
        schedule = schedules[campaign.name]
        # Then it fires in the client's own IANA time zone, at the exact minute of its expression
        assert schedule["ScheduleExpressionTimezone"] == stack.client.timezone
        assert zoneinfo.ZoneInfo(schedule["ScheduleExpressionTimezone"])
        assert schedule["ScheduleExpression"] == campaign.schedule
        assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
        target = schedule["Target"]
        assert json.loads(target["Input"]) == {"campaign": campaign.name}
        assert _references(target["Arn"]) == {campaign_function}
        assert _references(target["DeadLetterConfig"]) == {_own(stack, "AWS::SQS::Queue", "QueueName",
                                                                "async-failures")}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
        # And its role may invoke the campaign function and nothing else
        invoked = _actions_on(_role_statements(stack, target["RoleArn"]["Fn::GetAtt"][0]), "lambda:InvokeFunction")
        assert [_references(resource) for resource in invoked] == [{campaign_function}]


def test_plans_are_reviewed_once_a_day_at_the_configured_time_in_the_clients_time_zone(stack):
    # Given the plan review's schedule group and the client's configured time
    (schedule,) = _schedules_in_group(stack, f"rapport-{stack.client.client_id}-plans").values()
    configured = stack.client.payments.plan_review.schedule
    review = _function_id(stack, _the_function(catalogue.SCHEDULE_PLAN_REVIEW).name)
    # Then it fires once a day, at that minute of the client's own time zone, to review_plans
    assert schedule["Name"] == "plan-review"
    assert schedule["ScheduleExpression"] == configured
    minute, hour, day_of_month, _, day_of_week, _ = configured.removeprefix("cron(").removesuffix(")").split()
    assert minute.isdigit() and hour.isdigit() and (day_of_month, day_of_week) in (("*", "?"), ("?", "*"))
    assert schedule["ScheduleExpressionTimezone"] == stack.client.timezone
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"} and schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert _references(target["Arn"]) == {review}
    assert json.loads(target["Input"]) == {}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert _references(target["DeadLetterConfig"]) == {_own(stack, "AWS::SQS::Queue", "QueueName",
                                                            "async-failures")}
    # And its role may invoke review_plans and nothing else
    statements = _role_statements(stack, target["RoleArn"]["Fn::GetAtt"][0])
    invoked = _actions_on(statements, "lambda:InvokeFunction")
    assert [_references(resource) for resource in invoked] == [{review}]
    assert not _actions_on(statements, "dynamodb:Query")


def test_the_plan_review_reads_due_plans_through_the_sparse_due_index(stack):
    # Given the plans table and the review function's permissions
    plans = stack.resources[_table_id(stack, "plans")]["Properties"]
    (index,) = [i for i in plans.get("GlobalSecondaryIndexes", []) if i["IndexName"] == "due-index"]
    # Then the index is keyed on the plan's status and the due date of its oldest unpaid instalment,
    # keys only (the sweep reads each plan itself)
    assert index["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"}, {"AttributeName": "next_due", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    types = {a["AttributeName"]: a["AttributeType"] for a in plans["AttributeDefinitions"]}
    assert (types["status"], types["next_due"]) == ("S", "S")
    # And review_plans may query it and write only the records a review changes, never scan
    statements = _function_statements(stack, "review_plans")
    queried = [json.dumps(resource) for resource in _actions_on(statements, "dynamodb:Query")]
    assert any("/index/due-index" in resource for resource in queried)
    written = {ref for r in _actions_on(statements, "dynamodb:UpdateItem") for ref in _references(r)}
    assert written == {_table_id(stack, name) for name in ("plans", "accounts", "audit", "worklist")}
    assert not _actions_on(statements, "dynamodb:Scan")
    assert not _actions_on(statements, "states:StartExecution")


def test_ses_events_reach_the_delivery_events_topic(stack):
    (configuration_set_id,) = stack.of_type("AWS::SES::ConfigurationSet")
    (destination,) = stack.of_type("AWS::SES::ConfigurationSetEventDestination").values()
    topic = _own(stack, "AWS::SNS::Topic", "TopicName", "delivery-events")
    assert _references(destination["Properties"]["ConfigurationSetName"]) == {configuration_set_id}
    event_destination = destination["Properties"]["EventDestination"]
    assert event_destination["Enabled"] is True
    assert _references(event_destination["SnsDestination"]) == {topic}
    assert {"bounce", "complaint", "delivery", "reject"} <= set(event_destination["MatchingEventTypes"])
    # Clicks (and opens) too: a link followed counts for the channel the message went on
    assert {"click", "open"} <= set(event_destination["MatchingEventTypes"])


def _sms_configuration_set(stack) -> tuple[str, dict[str, Any]]:
    (found,) = stack.of_type("AWS::SMSVOICE::ConfigurationSet").items()
    return found


def test_sms_events_reach_the_delivery_events_topic_through_the_clients_configuration_set(stack):
    # Given the client's End User Messaging SMS configuration set
    _, configuration_set = _sms_configuration_set(stack)
    properties = configuration_set["Properties"]
    assert properties["ConfigurationSetName"] == f"rapport-{stack.client.client_id}-sms"
    # Then its one event destination publishes to the delivery-events topic
    (destination,) = properties["EventDestinations"]
    topic = _own(stack, "AWS::SNS::Topic", "TopicName", "delivery-events")
    assert destination["Enabled"] is True
    assert _references(destination["SnsDestination"]["TopicArn"]) == {topic}
    # And it names the outcomes of a text: delivered, and each way one fails
    matching = set(destination["MatchingEventTypes"])
    assert {
        "TEXT_DELIVERED", "TEXT_SUCCESSFUL", "TEXT_INVALID", "TEXT_BLOCKED", "TEXT_CARRIER_BLOCKED",
        "TEXT_SPAM", "TEXT_UNREACHABLE", "TEXT_CARRIER_UNREACHABLE", "TEXT_TTL_EXPIRED", "TEXT_UNKNOWN",
        "TEXT_INVALID_MESSAGE", "TEXT_PROTECT_BLOCKED",
    } <= matching
    # Every one of which the delivery-events function reads (TEXT_SENT is not an event AWS publishes)
    assert matching <= set(SMS_EVENT_TYPES) and "TEXT_SENT" not in matching


def test_functions_that_send_sms_name_the_configuration_set_and_may_use_it(stack):
    _, configuration_set = _sms_configuration_set(stack)
    name = configuration_set["Properties"]["ConfigurationSetName"]
    functions = stack.of_type("AWS::Lambda::Function")
    senders = [spec for spec in catalogue.FUNCTIONS if "sms" in spec.sends]
    assert senders
    for spec in senders:
        # Given a function that sends SMS: its settings name the configuration set
        variables = functions[_function_id(stack, spec.name)]["Properties"]["Environment"]["Variables"]
        assert variables["RAPPORT_SMS_CONFIGURATION_SET"] == name
        # And, with an origination identity, SendTextMessage is allowed through that configuration set
        if stack.client.contact.sms_origination_identity:
            statements = _function_statements(stack, spec.name)
            allowed = _actions_on(statements, "sms-voice:SendTextMessage")
            resources = [_render(resource) for resource in allowed]
            assert any(resource.endswith(f":configuration-set/{name}") for resource in resources), resources


# --- monitoring --------------------------------------------------------------------------------------

def _alarms(stack) -> list[dict[str, Any]]:
    (topic,) = [key for key, t in stack.of_type("AWS::SNS::Topic").items()
                if t["Properties"]["TopicName"] == f"rapport-{stack.client.client_id}-alarms"]
    alarms = [alarm["Properties"] for alarm in stack.of_type("AWS::CloudWatch::Alarm").values()]
    for alarm in alarms:
        # Every alarm fires on the first occurrence in five minutes and notifies the client's alarm topic
        assert alarm["AlarmActions"] == [{"Ref": topic}], alarm["AlarmName"]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert (alarm["EvaluationPeriods"], alarm["Period"]) == (1, 300), alarm["AlarmName"]
        assert alarm["TreatMissingData"] == "notBreaching", alarm["AlarmName"]
    return alarms


def _alarms_on(alarms: list[dict[str, Any]], namespace: str, metric: str, resource: str) -> list[dict[str, Any]]:
    return [alarm for alarm in alarms if (alarm["Namespace"], alarm["MetricName"]) == (namespace, metric)
            and _references(alarm["Dimensions"]) == {resource}]


def test_every_function_alarms_on_errors_and_throttles(stack):
    alarms = _alarms(stack)
    for spec in catalogue.FUNCTIONS:
        function = _function_id(stack, spec.name)
        for metric in ("Errors", "Throttles"):
            (alarm,) = _alarms_on(alarms, "AWS/Lambda", metric, function)
            assert alarm["Statistic"] == "Sum", (spec.name, metric)


def test_every_queue_alarms_when_a_message_waits(stack):
    # Given every queue of the stack: send failures, its DLQ and the async dead-letter queue
    alarms = _alarms(stack)
    queues = stack.of_type("AWS::SQS::Queue")
    assert len(queues) >= 3
    for queue in queues:
        # Then one message waiting is enough to raise the alarm
        (alarm,) = _alarms_on(alarms, "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue)
        assert alarm["Statistic"] == "Maximum", queue


def test_failed_and_timed_out_journeys_alarm(stack):
    alarms = _alarms(stack)
    for machine in stack.of_type("AWS::StepFunctions::StateMachine"):
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut"):
            (alarm,) = _alarms_on(alarms, "AWS/States", metric, machine)
            assert alarm["Statistic"] == "Sum", metric


def test_webhook_api_alarms_on_server_errors(stack):
    (api,) = stack.of_type("AWS::ApiGateway::RestApi").values()
    (alarm,) = [a for a in _alarms(stack) if (a["Namespace"], a["MetricName"]) == ("AWS/ApiGateway", "5XXError")]
    assert alarm["Dimensions"] == [{"Name": "ApiName", "Value": api["Properties"]["Name"]}]


def test_dashboard_shows_every_alarm_function_queue_and_journey(stack):
    (dashboard,) = stack.of_type("AWS::CloudWatch::Dashboard").values()
    shown = _references(dashboard["Properties"]["DashboardBody"])
    expected = (
        {_function_id(stack, spec.name) for spec in catalogue.FUNCTIONS}
        | set(stack.of_type("AWS::SQS::Queue"))
        | set(stack.of_type("AWS::StepFunctions::StateMachine"))
        | set(stack.of_type("AWS::CloudWatch::Alarm"))
    )
    assert expected <= shown, expected - shown


# --- DebiCheck collection files -------------------------------------------------------------------------

def _connector_arn(connector_id: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":transfer:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
        f":connector/{connector_id}",
    ]]}


def test_collection_files_wait_in_a_private_tls_only_bucket_encrypted_with_the_client_key(stack):
    # Given the collections bucket, its policy and the client key
    bucket_id = _collections_bucket(stack)
    bucket = stack.resources[bucket_id]
    (key_id,) = stack.of_type("AWS::KMS::Key")
    properties = bucket["Properties"]
    # Then every object is encrypted by default with the client key (with an S3 Bucket Key)
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert _references(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]) == {key_id}
    assert rule["BucketKeyEnabled"] is True
    # And nothing in it can be made public, and objects belong to the bucket's owner
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # And files expire, and the bucket outlives the stack
    (lifecycle,) = properties["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Status"] == "Enabled" and 30 <= lifecycle["ExpirationInDays"] <= 3653
    assert bucket["DeletionPolicy"] == "Retain"
    # And its policy refuses every request without TLS (1.2 or newer), on the bucket and every object
    (policy,) = [p["Properties"]["PolicyDocument"] for p in stack.of_type("AWS::S3::BucketPolicy").values()
                 if _references(p["Properties"]["Bucket"]) == {bucket_id}]
    denials = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denials]
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in [s["Condition"] for s in denials]
    for denial in denials:
        assert denial["Principal"] == {"AWS": "*"} and denial["Action"] == "s3:*"
        assert {"Fn::GetAtt": [bucket_id, "Arn"]} in denial["Resource"]
        assert {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]} in denial["Resource"]
    assert not [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def test_only_the_submission_writes_collection_files_and_sends_them_through_the_clients_connector(stack):
    bucket = _collections_bucket(stack)
    config = stack.client.payments.debicheck_collections
    for spec in catalogue.FUNCTIONS:
        statements = _function_statements(stack, spec.name)
        s3_or_transfer = [a for s in statements for a in _as_list(s["Action"]) if a.startswith(("s3:", "transfer:"))]
        if not spec.sends_collection_files:
            # Then no other function touches the bucket or the connector
            assert not s3_or_transfer, spec.name
            continue
        # Then it may write files and markers under their two prefixes, and nothing else in the bucket
        assert sorted(_actions_on(statements, "s3:PutObject"), key=json.dumps) == sorted(
            [_bucket_objects(bucket, OUTGOING), _bucket_objects(bucket, SENT)], key=json.dumps
        )
        assert set(s3_or_transfer) <= {"s3:PutObject", "s3:ListBucket", "transfer:StartFileTransfer"}
        # And it may list only the markers' prefix (to find a marker; it reads no object)
        (listing,) = [s for s in statements if "s3:ListBucket" in _as_list(s["Action"])]
        assert listing["Resource"] == {"Fn::GetAtt": [bucket, "Arn"]}
        assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{SENT}*"]}}
        # And it may start transfers on the client's one connector, once the client file names it
        expected = [_connector_arn(config.connector_id)] if config is not None else []
        assert _actions_on(statements, "transfer:StartFileTransfer") == expected
        # And it learns the bucket from its environment
        variables = stack.resources[_function_id(stack, spec.name)]["Properties"]["Environment"]["Variables"]
        assert variables["RAPPORT_COLLECTIONS_BUCKET"] == {"Ref": bucket}
        # And it encrypts what it writes with the client key, through S3 only
        (via,) = [s for s in statements if s.get("Sid") == "ClientKeyViaServices"]
        assert "kms:GenerateDataKey" in via["Action"]
        services = [_render(service) for service in via["Condition"]["StringEquals"]["kms:ViaService"]]
        assert "s3.${AWS::Region}.amazonaws.com" in services


def test_the_sftp_connector_role_reads_outgoing_files_and_its_credentials_only(stack):
    # Given the role the operator gives the SFTP connector, and its credentials secret
    bucket = _collections_bucket(stack)
    (role_id,) = [key for key, role in stack.of_type("AWS::IAM::Role").items()
                  if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
                  == {"Service": "transfer.amazonaws.com"}]
    trust = stack.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    secret = _logical_id(stack, "AWS::SecretsManager::Secret", "Name", f"rapport/{stack.client.client_id}/stitch-sftp")
    (key_id,) = stack.of_type("AWS::KMS::Key")
    # Then only Transfer Family in this account may assume it
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    statements = _role_statements(stack, role_id)
    # And it may read the outgoing files and the SFTP credentials, and decrypt them through S3 and
    # Secrets Manager, nothing more
    actions = {a for s in statements for a in _as_list(s["Action"])}
    assert actions == {"s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue", "kms:Decrypt"}
    assert _actions_on(statements, "s3:GetObject") == [_bucket_objects(bucket, OUTGOING)]
    assert [_references(r) for r in _actions_on(statements, "secretsmanager:GetSecretValue")] == [{secret}]
    assert [_references(r) for r in _actions_on(statements, "kms:Decrypt")] == [{key_id}]
    # And the secret is encrypted with the client key
    assert _references(stack.resources[secret]["Properties"]["KmsKeyId"]) == {key_id}


def test_the_collection_file_is_scheduled_daily_only_for_a_client_that_configures_it(stack):
    group = f"rapport-{stack.client.client_id}-collections"
    config = stack.client.payments.debicheck_collections
    groups = {g["Properties"]["Name"] for g in stack.of_type("AWS::Scheduler::ScheduleGroup").values()}
    if config is None:
        # Then a client without a connector has no schedule to send files (the function stays idle)
        assert group not in groups
        return
    (schedule,) = _schedules_in_group(stack, group).values()
    submit = _function_id(stack, _the_function(catalogue.SCHEDULE_COLLECTIONS).name)
    # Then it fires once a day at the configured minute of the client's own time zone
    assert schedule["Name"] == "debicheck-collections"
    assert schedule["ScheduleExpression"] == config.schedule
    assert schedule["ScheduleExpressionTimezone"] == stack.client.timezone
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"} and schedule["State"] == "ENABLED"
    # And after the day's plan review, so a missed instalment is rescheduled before files are built
    review_hour = int(stack.client.payments.plan_review.schedule.split()[1])
    assert int(config.schedule.split()[1]) > review_hour
    target = schedule["Target"]
    assert _references(target["Arn"]) == {submit}
    assert json.loads(target["Input"]) == {}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert _references(target["DeadLetterConfig"]) == {_own(stack, "AWS::SQS::Queue", "QueueName",
                                                            "async-failures")}
    # And its role may invoke submit_collections and nothing else
    statements = _role_statements(stack, target["RoleArn"]["Fn::GetAtt"][0])
    assert [_references(r) for r in _actions_on(statements, "lambda:InvokeFunction")] == [{submit}]
    assert not _actions_on(statements, "s3:PutObject") and not _actions_on(statements, "transfer:StartFileTransfer")
