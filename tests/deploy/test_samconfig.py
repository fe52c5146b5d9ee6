"""samconfig.toml: the deploy defaults `sam deploy` reads, true to what template.yaml needs.
(`sam validate` in `make test` reads it too, so a file the SAM CLI cannot parse fails there.)"""

from __future__ import annotations

import tomllib
from typing import Any

from devstack import template
from devstack.template import ROOT

# Properties that give an IAM resource a fixed name, which CloudFormation accepts only with
# CAPABILITY_NAMED_IAM.
IAM_NAMES = ("RoleName", "UserName", "GroupName", "ManagedPolicyName", "InstanceProfileName")
# What a SAM function or state machine turns into an IAM role of the stack's own.
ROLE_MAKERS = ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")


def samconfig() -> dict[str, Any]:
    return tomllib.loads((ROOT / "samconfig.toml").read_text())


def capabilities_needed(resources: dict[str, Any]) -> set[str]:
    """The capabilities a change set of this template needs (the SAM transform itself needs
    none: `sam deploy` deploys through a change set)."""
    needed = set()
    for resource in resources.values():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind.startswith("AWS::IAM::") or (kind in ROLE_MAKERS and "Role" not in props):
            needed.add("CAPABILITY_NAMED_IAM" if any(name in props for name in IAM_NAMES) else "CAPABILITY_IAM")
        if kind in ("AWS::Serverless::Application", "AWS::CloudFormation::Stack"):
            needed.add("CAPABILITY_AUTO_EXPAND")  # nested stacks' own transforms and macros
    if "CAPABILITY_NAMED_IAM" in needed:
        needed.discard("CAPABILITY_IAM")  # it includes it
    return needed


def test_the_deploy_defaults_are_the_sam_init_ones() -> None:
    config = samconfig()
    assert config["version"] == 0.1
    assert config["default"]["global"]["parameters"]["stack_name"] == "dayzero-invoicing"
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["confirm_changeset"] is True  # `sam deploy` shows the change set and asks first
    assert deploy["resolve_s3"] is True  # the artefacts go to a bucket SAM manages
    assert config["default"]["package"]["parameters"]["resolve_s3"] is True


def test_the_capabilities_are_what_the_template_needs() -> None:
    deploy = samconfig()["default"]["deploy"]["parameters"]
    assert set(deploy["capabilities"].split()) == capabilities_needed(template.load()["Resources"])


def test_the_capabilities_rule_knows_what_would_need_more() -> None:
    role = {"Type": "AWS::IAM::Role", "Properties": {}}
    assert capabilities_needed({"R": role}) == {"CAPABILITY_IAM"}
    assert capabilities_needed({"R": {**role, "Properties": {"RoleName": "x"}}}) == {"CAPABILITY_NAMED_IAM"}
    assert capabilities_needed({"F": {"Type": "AWS::Serverless::Function", "Properties": {"Role": "arn"}}}) == set()
    assert capabilities_needed({"A": {"Type": "AWS::Serverless::Application"}}) == {"CAPABILITY_AUTO_EXPAND"}


def test_no_parameter_is_pinned_for_every_deploy() -> None:
    """`sam deploy --guided` asks for StageName and TokenCacheSeconds (their defaults are the
    template's); a default deploy does not override them."""
    deploy = samconfig()["default"]["deploy"]["parameters"]
    assert "parameter_overrides" not in deploy
    assert set(template.load()["Parameters"]) == {"StageName", "TokenCacheSeconds"}
