# The local stack's values (moto as the endpoint): only what differs from an AWS deployment.

# moto writes an access-log object per request into the log bucket, so it is never empty: without
# this `beer-platform stack down --destroy` could not delete the buckets.
force_destroy = true

# The function's first version, before `make run` has built any image (moto accepts any URI). The
# platform deploys the real image as a new version behind `live`; Terraform ignores image_uri after.
lambda_image_uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/beer-platform-ibu-model:bootstrap"

# Dagster runs on the container engine locally (`beer-platform platform up`), not on ECS.
dagster_on_ecs = false
