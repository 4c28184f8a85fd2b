# What the whole root needs on a fresh endpoint beyond infra/local/local.tfvars (the harness of
# beer_platform_tests/terraform_harness.py passes both): a value for each root variable that has no
# default and that the local values do not set. None today.
