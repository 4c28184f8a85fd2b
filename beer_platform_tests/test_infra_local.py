"""infra/local/, what the local stack's apply of infra/ adds, stays what it says: values for
declared variables only (a value for an undeclared one is only a warning to Terraform), the same
resource names as AWS, every variable without a default set, and a provider override that holds
no credential and no endpoint (both come from the environment the stack runs Terraform with)."""

from __future__ import annotations

from beer_platform.local.terraform import LOCAL_TFVARS, PROVIDER_OVERRIDE
from beer_platform.names import DEFAULT_NAMES
from beer_platform_tests import infra_names as infra


def test_the_local_values_set_declared_variables_every_required_one_and_no_name():
    variables = infra.blocks(infra.load(infra.INFRA_DIR / "variables.tf"), "variable")
    local = {key for key in infra.load(LOCAL_TFVARS) if not key.startswith("__")}
    assert local <= set(variables), local - set(variables)
    assert {name for name, body in variables.items() if "default" not in body} <= local
    assert not local & set(infra.expected_names(DEFAULT_NAMES))  # the names are AWS's defaults


def test_the_provider_override_names_no_credential_and_no_endpoint():
    [provider] = infra.load(PROVIDER_OVERRIDE)["provider"]
    settings = provider["aws"]
    assert not {"access_key", "secret_key", "token", "profile", "endpoints", "shared_credentials_files"} & set(settings)
    assert settings["s3_use_path_style"] is True and settings["skip_credentials_validation"] is True
