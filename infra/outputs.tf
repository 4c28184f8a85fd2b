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
