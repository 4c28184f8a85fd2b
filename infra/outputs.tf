# One output per ResourceNames field (same name), read back by the platform from
# `terraform output -json`, then ARNs and endpoints.

# --- ResourceNames ------------------------------------------------------------------------------

output "raw_bucket" {
  description = "Name of the raw bucket."
  value       = module.lake.raw_bucket
}

output "cleaned_bucket" {
  description = "Name of the cleaned bucket."
  value       = module.lake.cleaned_bucket
}

output "artifacts_bucket" {
  description = "Name of the artifacts bucket."
  value       = module.lake.artifacts_bucket
}

output "stream" {
  description = "Name of the Kinesis stream."
  value       = module.ingestion.stream_name
}

output "predictions_stream" {
  description = "Name of the prediction log's Kinesis stream."
  value       = module.ingestion.predictions_stream_name
}

output "stream_shards" {
  description = "Shard count of the Kinesis stream."
  value       = module.ingestion.stream_shards
}

output "glue_database" {
  description = "Name of the Glue database."
  value       = module.catalog.glue_database
}

output "athena_workgroup" {
  description = "Name of the Athena workgroup."
  value       = module.catalog.athena_workgroup
}

output "ecr_repository" {
  description = "Name of the ECR repository."
  value       = module.serving.ecr_repository
}

output "lambda_function" {
  description = "Name of the model's Lambda function."
  value       = module.serving.lambda_function
}

output "lambda_role" {
  description = "Name of the Lambda function's execution role."
  value       = module.serving.lambda_role
}

output "lambda_role_arn" {
  description = "ARN of the Lambda function's execution role."
  value       = module.serving.lambda_role_arn
}

output "lambda_alias" {
  description = "Name of the function's alias clients call."
  value       = module.serving.lambda_alias
}

output "region" {
  description = "AWS region of the stack (the provider's region)."
  value       = var.region
}

# --- ARNs and endpoints -------------------------------------------------------------------------

output "stream_arn" {
  description = "ARN of the Kinesis stream."
  value       = module.ingestion.stream_arn
}

output "predictions_stream_arn" {
  description = "ARN of the prediction log's Kinesis stream."
  value       = module.ingestion.predictions_stream_arn
}

output "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  value       = module.lake.raw_bucket_arn
}

output "cleaned_bucket_arn" {
  description = "ARN of the cleaned bucket."
  value       = module.lake.cleaned_bucket_arn
}

output "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = module.lake.artifacts_bucket_arn
}

output "access_log_bucket" {
  description = "Name of the bucket holding the data buckets' access logs."
  value       = module.lake.access_log_bucket
}

output "glue_database_arn" {
  description = "ARN of the Glue database."
  value       = module.catalog.glue_database_arn
}

output "athena_workgroup_arn" {
  description = "ARN of the Athena workgroup."
  value       = module.catalog.athena_workgroup_arn
}

output "athena_results_location" {
  description = "S3 location of the workgroup's encrypted query results."
  value       = module.catalog.athena_results_location
}

output "ecr_repository_arn" {
  description = "ARN of the ECR repository."
  value       = module.serving.ecr_repository_arn
}

output "ecr_repository_url" {
  description = "URL of the ECR repository (docker push target)."
  value       = module.serving.ecr_repository_url
}

output "lambda_function_arn" {
  description = "Unqualified ARN of the model's Lambda function."
  value       = module.serving.lambda_function_arn
}

output "lambda_alias_arn" {
  description = "ARN of the function's alias."
  value       = module.serving.lambda_alias_arn
}

output "function_url" {
  description = "IAM-authenticated (SigV4) HTTPS endpoint of the alias."
  value       = module.serving.function_url
}

output "lambda_log_group" {
  description = "CloudWatch log group of the model function."
  value       = module.serving.log_group_name
}

output "orchestration_role_arn" {
  description = "ARN of the IAM role the platform runs as."
  value       = module.orchestration.role_arn
}

output "stream_kms_key_arn" {
  description = "ARN of the KMS key encrypting the stream."
  value       = module.ingestion.kms_key_arn
}

output "lake_kms_key_arn" {
  description = "ARN of the KMS key encrypting the data buckets and Athena results."
  value       = module.lake.kms_key_arn
}

output "serving_kms_key_arn" {
  description = "ARN of the KMS key encrypting the ECR repository and the function's logs."
  value       = module.serving.kms_key_arn
}

# --- Dagster on ECS (modules/dagster) ------------------------------------------------------------
# The first block is the `aws` instance's environment as the tasks get it (DAGSTER_INSTANCE_ENV in
# beer_platform/names.py maps each variable to its output here).

output "dagster_db_host" {
  description = "Address of Dagster's Postgres (DAGSTER_PG_HOST)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_PG_HOST"], null)
}

output "dagster_db_port" {
  description = "Port of Dagster's Postgres (DAGSTER_PG_PORT)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_PG_PORT"], null)
}

output "dagster_db_name" {
  description = "Database of Dagster's runs, events and schedules (DAGSTER_PG_DB)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_PG_DB"], null)
}

output "dagster_db_username" {
  description = "User Dagster connects as (DAGSTER_PG_USERNAME)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_PG_USERNAME"], null)
}

output "dagster_db_password_value_from" {
  description = "ECS valueFrom of the database password in Secrets Manager (DAGSTER_PG_PASSWORD_FROM; the tasks get the password itself as DAGSTER_PG_PASSWORD)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_PG_PASSWORD_FROM"], null)
}

output "dagster_execution_role_arn" {
  description = "Execution role of the Dagster tasks and the runs (DAGSTER_RUN_EXECUTION_ROLE_ARN)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_RUN_EXECUTION_ROLE_ARN"], null)
}

output "dagster_log_group" {
  description = "Log group of the Dagster services and the runs (DAGSTER_RUN_LOG_GROUP)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_RUN_LOG_GROUP"], null)
}

output "dagster_run_task_family_prefix" {
  description = "Prefix of the run task definitions (DAGSTER_RUN_TASK_FAMILY_PREFIX)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_RUN_TASK_FAMILY_PREFIX"], null)
}

output "dagster_code_server_host" {
  description = "Cloud Map name of the code server (DAGSTER_CODE_SERVER_HOST)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_CODE_SERVER_HOST"], null)
}

output "dagster_code_server_port" {
  description = "gRPC port of the code server (DAGSTER_CODE_SERVER_PORT)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_CODE_SERVER_PORT"], null)
}

output "dagster_code_location_name" {
  description = "Name of the code location (DAGSTER_CODE_LOCATION_NAME)."
  value       = try(module.dagster[0].instance_environment["DAGSTER_CODE_LOCATION_NAME"], null)
}

output "dagster_cluster" {
  description = "Name of the ECS cluster of Dagster's services and runs."
  value       = try(module.dagster[0].cluster_name, null)
}

output "dagster_services" {
  description = "ECS service names by role (webserver, daemon, code)."
  value       = try(module.dagster[0].service_names, null)
}

output "dagster_task_definition_families" {
  description = "Task definition families of the services by role (webserver, daemon, code)."
  value       = try(module.dagster[0].task_definition_families, null)
}

output "dagster_repository_urls" {
  description = "ECR repositories of the images: services (webserver, daemon) and code (code location, runs)."
  value       = try(module.dagster[0].repository_urls, null)
}

output "dagster_webserver_url" {
  description = "The Dagster UI inside the VPC; from elsewhere, forward a port through the webserver task (docs/deploying.md)."
  value       = try(module.dagster[0].webserver_url, null)
}

output "dagster_webserver_port" {
  description = "Port of the webserver in its task (the remote port of an SSM port forwarding session)."
  value       = try(module.dagster[0].webserver_port, null)
}

output "dagster_db_secret_arn" {
  description = "ARN of the secret RDS keeps Dagster's database password in."
  value       = try(module.dagster[0].db_secret_arn, null)
}

output "dagster_kms_key_arn" {
  description = "ARN of the key of Dagster's database, secret, images, logs and SSM sessions (a user forwarding the UI's port needs kms:GenerateDataKey on it)."
  value       = try(module.dagster[0].kms_key_arn, null)
}
