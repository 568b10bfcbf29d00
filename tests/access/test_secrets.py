"""Credentials in config are Pulumi secrets: the PagerDuty URL never reaches the plan, the preview or the state in
plain text, a plain-text https endpoint is refused, and the offline preview works without the secrets provider."""

from __future__ import annotations

import json

import pytest
from mlops_platform.infra.config import PROJECT, ConfigError
from mlops_platform.infra.tooling.offline import SECRET_TEXT, preview_stack, stack_config

from tests.conftest import plan_for

SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def test_prod_keeps_the_pagerduty_url_as_a_secure_value_and_the_plan_shows_secret():
    config = stack_config("prod")
    assert f"{PROJECT}:monitoring" in config.secret_keys
    plan = plan_for("prod")
    https = [s for s in plan.of_type(SUBSCRIPTION) if s.inputs["protocol"] == "https"]
    assert [s.inputs["endpoint"] for s in https] == [SECRET_TEXT]
    text = plan.to_json()
    ciphertext = json.loads(config[f"{PROJECT}:monitoring"])  # the loader keeps no ciphertext either
    assert "pagerduty.com" not in text
    assert "Q2lwaGVydGV4dE5vbmNl" not in text and "Q2lwaGVydGV4dE5vbmNl" not in json.dumps(ciphertext)


def test_email_subscriptions_stay_readable():
    emails = [s for s in plan_for("prod").of_type(SUBSCRIPTION) if s.inputs["protocol"] == "email"]
    assert [s.inputs["endpoint"] for s in emails] == ["ml-platform-oncall@example.com"]


def test_a_plain_text_https_endpoint_is_refused_with_the_command_to_fix_it():
    config = dict(stack_config("dev"))
    monitoring = json.loads(config[f"{PROJECT}:monitoring"])
    monitoring["alert_subscriptions"].append(
        {"protocol": "https", "endpoint": "https://events.pagerduty.com/integration/abc/enqueue"}
    )
    config[f"{PROJECT}:monitoring"] = json.dumps(monitoring)
    with pytest.raises(ConfigError) as raised:
        preview_stack("dev", config=config)
    message = str(raised.value)
    assert f"{PROJECT}:monitoring.alert_subscriptions[1].endpoint" in message
    assert "pulumi config set --secret --path" in message
    assert "pagerduty.com" not in message  # the error itself does not print the credential


def test_the_same_endpoint_marked_secret_is_accepted(tmp_path):
    text = (stack_config.__globals__["STACKS_DIR"] / "Pulumi.dev.yaml").read_text()
    text = text.replace(
        "        endpoint: ml-platform-dev@example.com\n",
        "        endpoint: ml-platform-dev@example.com\n      - protocol: https\n        endpoint:\n"
        "          secure: v1:bm9uY2U=:Y2lwaGVydGV4dA==\n",
    )
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    plan = preview_stack("dev", stacks_dir=tmp_path)
    https = [s for s in plan.of_type(SUBSCRIPTION) if s.inputs["protocol"] == "https"]
    assert [s.inputs["endpoint"] for s in https] == [SECRET_TEXT]


def test_the_preview_shows_the_secret_endpoint_as_secret(capsys, tmp_path):
    from mlops_platform.infra.tooling.cli import main

    plan_file = tmp_path / "plan.json"
    assert main(["preview", "--stack", "prod", "--json", str(plan_file)]) == 0
    out = capsys.readouterr().out
    assert "https → [secret]" in " ".join(out.split())
    assert "pagerduty" not in out and "pagerduty" not in plan_file.read_text()
    https = [
        r for r in json.loads(plan_file.read_text())["resources"]
        if r["type"] == SUBSCRIPTION and r["inputs"]["protocol"] == "https"
    ]  # fmt: skip
    assert [r["inputs"]["endpoint"] for r in https] == [SECRET_TEXT]
