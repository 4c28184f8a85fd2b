# The beer platform's AWS resources. Names default to ResourceNames (beer_platform/names.py);
# `terraform output -json > infra/outputs.json` hands the real names to the platform
# (BEER_PLATFORM_ENV=aws reads BEER_PLATFORM_TF_OUTPUTS, default infra/outputs.json).

module "ingestion" {
  source = "./modules/ingestion"

  stream_name             = var.stream
  predictions_stream_name = var.predictions_stream
  stream_shards           = var.stream_shards
  stream_mode             = var.stream_mode
  retention_hours         = var.stream_retention_hours
}

module "lake" {
  source = "./modules/lake"

  raw_bucket                         = var.raw_bucket
  cleaned_bucket                     = var.cleaned_bucket
  artifacts_bucket                   = var.artifacts_bucket
  access_log_bucket                  = var.access_log_bucket
  raw_transition_days                = var.raw_transition_days
  raw_transition_storage_class       = var.raw_transition_storage_class
  raw_expiration_days                = var.raw_expiration_days
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  force_destroy                      = var.force_destroy
}

module "catalog" {
  source = "./modules/catalog"

  glue_database    = var.glue_database
  athena_workgroup = var.athena_workgroup
  artifacts_bucket = module.lake.artifacts_bucket
  kms_key_arn      = module.lake.kms_key_arn
  force_destroy    = var.force_destroy
}

module "serving" {
  source = "./modules/serving"

  ecr_repository          = var.ecr_repository
  ecr_keep_images         = var.ecr_keep_images
  lambda_function         = var.lambda_function
  lambda_alias            = var.lambda_alias
  lambda_role             = var.lambda_role
  image_uri               = var.lambda_image_uri
  memory_mb               = var.lambda_memory_mb
  timeout_seconds         = var.lambda_timeout_seconds
  reserved_concurrency    = var.lambda_reserved_concurrency
  log_retention_days      = var.lambda_log_retention_days
  force_delete_repository = var.force_destroy
  predictions_stream_arn  = module.ingestion.predictions_stream_arn
  stream_kms_key_arn      = module.ingestion.kms_key_arn
}

module "orchestration" {
  source = "./modules/orchestration"

  role_name             = var.orchestration_role_name
  assume_role_principal = var.orchestration_assume_role_principal
  stream_arns           = [module.ingestion.stream_arn, module.ingestion.predictions_stream_arn]
  raw_bucket_arn        = module.lake.raw_bucket_arn
  cleaned_bucket_arn    = module.lake.cleaned_bucket_arn
  artifacts_bucket_arn  = module.lake.artifacts_bucket_arn
  glue_database         = module.catalog.glue_database
  athena_workgroup_arn  = module.catalog.athena_workgroup_arn
  ecr_repository_arn    = module.serving.ecr_repository_arn
  lambda_function_arn   = module.serving.lambda_function_arn
  kms_key_arns          = [module.ingestion.kms_key_arn, module.lake.kms_key_arn]
}

# ResourceNames as the platform reads them in the `aws` environment's BEER_PLATFORM_NAMES (the
# code location and every run on ECS have no outputs.json): the same values as the name outputs.
locals {
  resource_names = {
    raw_bucket         = var.raw_bucket
    cleaned_bucket     = var.cleaned_bucket
    artifacts_bucket   = var.artifacts_bucket
    stream             = var.stream
    stream_shards      = var.stream_shards
    predictions_stream = var.predictions_stream
    glue_database      = var.glue_database
    athena_workgroup   = var.athena_workgroup
    ecr_repository     = var.ecr_repository
    lambda_function    = var.lambda_function
    lambda_alias       = var.lambda_alias
    lambda_role        = var.lambda_role
    region             = var.region
  }
}

module "dagster" {
  source = "./modules/dagster"
  count  = var.dagster_on_ecs ? 1 : 0 # the local stack runs Dagster on the container engine instead

  services_image_uri        = var.dagster_services_image_uri
  code_image_uri            = var.dagster_code_image_uri
  instance_yaml             = file("${path.module}/dagster/dagster.yaml")
  workspace_yaml            = file("${path.module}/dagster/workspace.yaml")
  orchestration_role_arn    = module.orchestration.role_arn
  artifacts_bucket          = module.lake.artifacts_bucket
  artifacts_bucket_arn      = module.lake.artifacts_bucket_arn
  artifacts_kms_key_arn     = module.lake.kms_key_arn
  force_delete_repositories = var.force_destroy

  platform_environment = {
    BEER_PLATFORM_ENV      = "aws"
    BEER_PLATFORM_EXECUTOR = "in_process" # a run's steps in its run worker: the imports paid once a task
    BEER_PLATFORM_NAMES    = jsonencode(local.resource_names)
    PUNKAPI_BASE_URL       = var.punkapi_base_url
  }
}
