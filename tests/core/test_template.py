"""template.yaml keeps what operating the stack needs: alarms wired to what they watch, the relay's health check and
deployment circuit breaker, log retention everywhere, a protected table, bounded bucket history, a relay pinned by
digest, security headers on the CDN, optional WAF and API keys. Read with the loader the dev stack uses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack.template import TEMPLATE_PATH, load_template
from gateway_relay import health
from gateway_relay.metrics import DISCONNECTED
from gateway_relay.settings import RelaySettings

T = load_template()
RESOURCES: dict[str, dict[str, Any]] = T["Resources"]


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def _props(name: str) -> dict[str, Any]:
    props: dict[str, Any] = RESOURCES[name]["Properties"]
    return props


def _alarms() -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in _of_type("AWS::CloudWatch::Alarm").items()}


def _alarm_on(namespace: str, metric: str) -> list[dict[str, Any]]:
    return [a for a in _alarms().values() if a["Namespace"] == namespace and a["MetricName"] == metric]


def _dims(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


def _relay_container() -> dict[str, Any]:
    (container,) = _props("RelayTaskDefinition")["ContainerDefinitions"]
    result: dict[str, Any] = container
    return result


def _relay_env() -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in _relay_container()["Environment"]}


def test_every_alarm_notifies_the_alarm_topic() -> None:
    assert _alarms()
    topic = {"Ref": "AlarmTopic"}
    assert _props("AlarmTopic") is not None and RESOURCES["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    for name, alarm in _alarms().items():
        assert topic in alarm["AlarmActions"], name
        assert alarm["TreatMissingData"] in ("breaching", "notBreaching"), name


def test_every_function_has_an_errors_alarm_and_a_log_group_with_retention() -> None:
    functions = _of_type("AWS::Serverless::Function")
    assert {"ApiFunction", "DispatcherFunction"} <= set(functions)
    groups = {json.dumps(r["Properties"].get("LogGroupName")) for r in _of_type("AWS::Logs::LogGroup").values()}
    for name in functions:
        errors = [a for a in _alarm_on("AWS/Lambda", "Errors") if _dims(a) == {"FunctionName": {"Ref": name}}]
        assert errors, f"no Errors alarm for {name}"
        assert json.dumps({"Fn::Sub": f"/aws/lambda/${{{name}}}"}) in groups, f"no log group (retention) for {name}"


def test_every_log_group_has_a_retention() -> None:
    groups = _of_type("AWS::Logs::LogGroup")
    assert {"RelayLogGroup", "ApiAccessLogGroup"} <= set(groups)
    for name, group in groups.items():
        assert group["Properties"].get("RetentionInDays"), f"{name} keeps its logs forever"


def test_api_5xx_alarm_watches_this_api_and_stage() -> None:
    api = _props("Api")
    (alarm,) = _alarm_on("AWS/ApiGateway", "5XXError")
    assert _dims(alarm) == {"ApiName": api["Name"], "Stage": api["StageName"]}
    assert alarm["ComparisonOperator"].startswith("GreaterThan")


def test_throttles_alarm_reads_the_429s_of_the_api_access_log() -> None:
    api = _props("Api")
    log_group = api["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    assert RESOURCES[log_group]["Type"] == "AWS::Logs::LogGroup"
    (metric_filter,) = [
        r["Properties"]
        for r in _of_type("AWS::Logs::MetricFilter").values()
        if r["Properties"]["LogGroupName"] == {"Ref": log_group}
    ]
    assert re.fullmatch(r'\{ \$\.status = "429" \}', metric_filter["FilterPattern"])
    (transform,) = metric_filter["MetricTransformations"]
    assert _alarm_on(transform["MetricNamespace"], transform["MetricName"]), "nothing alarms on the 429 metric"


def test_access_log_lines_are_json_without_query_strings_or_headers() -> None:
    line_format = _props("Api")["AccessLogSetting"]["Format"]
    record = json.loads(line_format)  # every $context value is quoted: each line parses, the metric filter reads it
    assert record["status"] == "$context.status"
    assert "querystring" not in line_format.lower() and "$input" not in line_format and "header" not in line_format
    assert 'apiKey"' not in line_format  # the key's id may be logged, never the key


def test_no_running_relay_alarm_watches_the_relay_service() -> None:
    (alarm,) = _alarm_on("ECS/ContainerInsights", "RunningTaskCount")
    assert _dims(alarm) == {
        "ClusterName": {"Ref": "RelayCluster"},
        "ServiceName": {"Fn::GetAtt": ["RelayService", "Name"]},
    }
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"
    settings = _props("RelayCluster")["ClusterSettings"]
    assert {"Name": "containerInsights", "Value": "enabled"} in settings  # the metric exists only with it


def test_disconnected_accounts_alarm_reads_what_the_relay_publishes() -> None:
    env = _relay_env()
    (alarm,) = _alarm_on(env["MJAPI_RELAY_METRICS_NAMESPACE"], DISCONNECTED)
    assert _dims(alarm) == {"service": env["POWERTOOLS_SERVICE_NAME"]}  # the EMF dimension Powertools adds
    assert alarm["TreatMissingData"] == "breaching"  # a silent relay vouches for no account
    interval = RelaySettings.model_fields["metrics_interval_seconds"].default
    assert alarm["Period"] >= interval


def test_relay_container_health_check_runs_the_relays_checker() -> None:
    check = _relay_container()["HealthCheck"]
    assert check["Command"][0] == "CMD-SHELL"
    assert "python -m gateway_relay.health" in check["Command"][1]
    max_age = health.DEFAULT_MAX_AGE_SECONDS
    touch_every = RelaySettings.model_fields["health_interval_seconds"].default
    assert touch_every * 3 <= max_age  # a busy loop that is merely late is not killed
    assert check["StartPeriod"] >= max_age
    assert check["Interval"] * check["Retries"] >= 60


def test_relay_deployments_roll_back_through_the_circuit_breaker() -> None:
    deployment = _props("RelayService")["DeploymentConfiguration"]
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert deployment["MaximumPercent"] == 100  # still one relay at a time


def test_relay_image_is_pinned_by_digest() -> None:
    parameter = T["Parameters"]["RelayImageUri"]
    pattern = parameter["AllowedPattern"]
    assert "sha256" in parameter["Description"]
    digest = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mjapi-relay@sha256:" + "0a" * 32
    assert re.fullmatch(pattern, digest)
    assert not re.fullmatch(pattern, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mjapi-relay:latest")
    assert not re.fullmatch(pattern, "mjapi-relay@sha256:" + "0a" * 31)
    assert _relay_container()["Image"] == {"Ref": "RelayImageUri"}


def test_table_is_protected_and_bucket_history_bounded() -> None:
    table = RESOURCES["Table"]
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    rules = _props("ImagesBucket")["LifecycleConfiguration"]["Rules"]
    noncurrent = [r for r in rules if r["Status"] == "Enabled" and "NoncurrentVersionExpiration" in r]
    assert noncurrent and _props("ImagesBucket")["VersioningConfiguration"]["Status"] == "Enabled"


def test_cdn_sends_security_headers() -> None:
    behaviour = _props("Cdn")["DistributionConfig"]["DefaultCacheBehavior"]
    policy = behaviour["ResponseHeadersPolicyId"]["Ref"]
    config = _props(policy)["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"


def test_waf_is_optional_and_guards_the_api_stage() -> None:
    assert T["Parameters"]["EnableWaf"]["Default"] == "false"
    acl, association = RESOURCES["WebAcl"], RESOURCES["WebAclAssociation"]
    assert acl["Condition"] == association["Condition"] == "WafEnabled"
    statements = [rule["Statement"] for rule in acl["Properties"]["Rules"]]
    assert any("RateBasedStatement" in s for s in statements)
    managed = {s["ManagedRuleGroupStatement"]["Name"] for s in statements if "ManagedRuleGroupStatement" in s}
    assert "AWSManagedRulesCommonRuleSet" in managed
    arn = association["Properties"]["ResourceArn"]["Fn::Sub"]
    assert "/restapis/${Api}/stages/${Api.Stage}" in arn


def test_api_keys_and_usage_plan_are_optional() -> None:
    parameter = T["Parameters"]["ApiKeys"]
    assert parameter["Default"] == "" and "" in parameter["AllowedValues"]  # SAM reads "" as false, "false" as true
    assert _props("Api")["Auth"]["ApiKeyRequired"] == {"Ref": "ApiKeys"}
    for name in ("ApiUsagePlan", "ApiKey", "ApiUsagePlanKey"):
        assert RESOURCES[name]["Condition"] == "ApiKeysRequired"
    plan = _props("ApiUsagePlan")
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "Api.Stage"}}]
    assert {"RateLimit", "BurstLimit"} <= set(plan["Throttle"])


CFN_LINT = Path(sys.executable).parent / "cfn-lint"


@pytest.mark.skipif(not CFN_LINT.exists(), reason="cfn-lint is not installed next to this interpreter")
def test_cfn_lint_is_clean() -> None:
    result = subprocess.run(
        [str(CFN_LINT), str(TEMPLATE_PATH)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
