"""Email replies reach Rapport: the SES receipt rule publishes them, scanned, to email-inbound."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.infra


def _topic_id(stack, suffix: str) -> str:
    name = f"rapport-{stack.client.client_id}-{suffix}"
    (key,) = [key for key, topic in stack.of_type("AWS::SNS::Topic").items()
              if topic["Properties"].get("TopicName") == name]
    return key


def test_replies_to_the_sending_address_are_published_whole_to_email_inbound(stack):
    # Given the client's receipt rule set and its one rule
    (rule_set_id, rule_set), = stack.of_type("AWS::SES::ReceiptRuleSet").items()
    (rule,) = stack.of_type("AWS::SES::ReceiptRule").values()
    properties = rule["Properties"]
    # Then the rule belongs to the set and covers exactly the address debtors answer
    assert rule_set_id in json.dumps(properties["RuleSetName"])
    assert rule_set["Properties"]["RuleSetName"] == f"rapport-{stack.client.client_id}-inbound"
    assert properties["Rule"]["Recipients"] == [stack.client.contact.email_from]
    # And mail is scanned (the verdicts the inbound function rejects spam and viruses on), over TLS
    assert properties["Rule"]["Enabled"] is True
    assert properties["Rule"]["ScanEnabled"] is True and properties["Rule"]["TlsPolicy"] == "Require"
    # And its only action publishes the whole email, base64, to the email-inbound topic
    (action,) = properties["Rule"]["Actions"]
    assert action["SNSAction"]["Encoding"] == "Base64"
    assert action["SNSAction"]["TopicArn"] == {"Ref": _topic_id(stack, "email-inbound")}


def test_ses_may_publish_into_email_inbound_from_this_account_only(stack):
    # Given the email-inbound topic's resource policy
    topic = _topic_id(stack, "email-inbound")
    policies = [p["Properties"] for p in stack.of_type("AWS::SNS::TopicPolicy").values()
                if {"Ref": topic} in p["Properties"]["Topics"]]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    (statement,) = [s for s in statements if s["Effect"] == "Allow" and s["Action"] == "sns:Publish"]
    # Then SES is the publisher, bound to this account
    assert statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
