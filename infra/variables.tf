# Root variables. The first block mirrors `ResourceNames` in beer_platform/names.py field for
# field (same names, same defaults): beer_platform_tests/test_infra_names.py fails when they drift.

# --- ResourceNames ------------------------------------------------------------------------------

variable "raw_bucket" {
  description = "S3 bucket for raw ingested beer data (gzip JSON lines per ingestion date)."
  type        = string
  default     = "beer-platform-raw"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.raw_bucket))
    error_message = "raw_bucket must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)."
  }
}

variable "cleaned_bucket" {
  description = "S3 bucket for cleaned Parquet data (the Glue table's location)."
  type        = string
  default     = "beer-platform-cleaned"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.cleaned_bucket))
    error_message = "cleaned_bucket must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)."
  }
}

variable "artifacts_bucket" {
  description = "S3 bucket for models, platform state and Athena query results."
  type        = string
  default     = "beer-platform-artifacts"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket))
    error_message = "artifacts_bucket must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)."
  }
}

variable "stream" {
  description = "Kinesis data stream receiving beer events from the ingestion job."
  type        = string
  default     = "beer-platform-events"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.stream))
    error_message = "stream must be 1-128 characters of [a-zA-Z0-9_.-]."
  }
}

variable "predictions_stream" {
  description = "Kinesis data stream receiving the served model's prediction records (model server and Lambda log subscription)."
  type        = string
  default     = "beer-platform-predictions"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.predictions_stream))
    error_message = "predictions_stream must be 1-128 characters of [a-zA-Z0-9_.-]."
  }
}

variable "stream_shards" {
  description = "Shard count of the Kinesis stream when stream_mode is PROVISIONED (ON_DEMAND scales itself)."
  type        = number
  default     = 2

  validation {
    condition     = var.stream_shards >= 1 && var.stream_shards <= 500 && floor(var.stream_shards) == var.stream_shards
    error_message = "stream_shards must be an integer between 1 and 500."
  }
}

variable "glue_database" {
  description = "Glue Data Catalog database."
  type        = string
  default     = "beer_platform"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_database))
    error_message = "glue_database must be lower-case letters, digits and underscores."
  }
}

variable "athena_workgroup" {
  description = "Athena workgroup for queries over the Glue database."
  type        = string
  default     = "beer-platform"

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,128}$", var.athena_workgroup))
    error_message = "athena_workgroup must be 1-128 characters of [a-zA-Z0-9._-]."
  }
}

variable "ecr_repository" {
  description = "ECR repository of the IBU model's Lambda container images."
  type        = string
  default     = "beer-platform-ibu-model"

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.ecr_repository))
    error_message = "ecr_repository must be a valid ECR repository name (lower case)."
  }
}

variable "lambda_function" {
  description = "Lambda function serving the IBU model."
  type        = string
  default     = "beer-platform-ibu-model"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.lambda_function))
    error_message = "lambda_function must be 1-64 characters of [a-zA-Z0-9_-]."
  }
}

variable "lambda_role" {
  description = "Name of the IAM execution role of the Lambda function (logs and X-Ray only)."
  type        = string
  default     = "beer-platform-ibu-model-execution"

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.lambda_role))
    error_message = "lambda_role must be 1-64 characters of [a-zA-Z0-9+=,.@_-]."
  }
}

variable "lambda_alias" {
  description = "Alias of the function that clients call and the Function URL points at."
  type        = string
  default     = "live"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,128}$", var.lambda_alias)) && !can(regex("^[0-9]+$", var.lambda_alias))
    error_message = "lambda_alias must be 1-128 characters of [a-zA-Z0-9_-] and not a version number."
  }
}

variable "region" {
  description = "AWS region of every resource."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

# --- everything else ----------------------------------------------------------------------------

variable "access_log_bucket" {
  description = "S3 bucket receiving the access logs of the three data buckets."
  type        = string
  default     = "beer-platform-access-logs"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be a valid S3 bucket name."
  }
}

variable "stream_mode" {
  description = "Capacity mode of the Kinesis stream: PROVISIONED (stream_shards shards) or ON_DEMAND (Kinesis adds and removes shards; the landing follows parents to children either way)."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.stream_mode)
    error_message = "stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "stream_retention_hours" {
  description = "Retention of the Kinesis stream, in hours. Keep it at least twice the daily_ingestion schedule's interval (24 h): a landing that fails one day is caught up the next before its records expire; one that falls further behind fails naming the gap. Above 24 h is billed as extended retention."
  type        = number
  default     = 48

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760 && floor(var.stream_retention_hours) == var.stream_retention_hours
    error_message = "stream_retention_hours must be an integer between 24 and 8760."
  }
}

variable "raw_transition_days" {
  description = "Age in days after which raw objects move to raw_transition_storage_class."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_transition_days >= 1 && floor(var.raw_transition_days) == var.raw_transition_days
    error_message = "raw_transition_days must be a positive integer."
  }
}

variable "raw_transition_storage_class" {
  description = "Storage class old raw objects transition to."
  type        = string
  default     = "STANDARD_IA"

  validation {
    condition     = contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.raw_transition_storage_class)
    error_message = "raw_transition_storage_class must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }
}

variable "raw_expiration_days" {
  description = "Age in days after which raw objects expire (later than raw_transition_days)."
  type        = number
  default     = 365

  validation {
    condition     = var.raw_expiration_days >= 2 && floor(var.raw_expiration_days) == var.raw_expiration_days
    error_message = "raw_expiration_days must be an integer >= 2."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted in the data buckets."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a positive integer."
  }
}

variable "lambda_image_uri" {
  description = "ECR image URI (tag or digest) of the model image for the function's first deployment; see infra/README.md for the bootstrap order."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[^:@]+(:[A-Za-z0-9_.-]{1,128}|@sha256:[a-f0-9]{64})$", var.lambda_image_uri))
    error_message = "lambda_image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the model function in MB."
  type        = number
  default     = 1024

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "lambda_memory_mb must be an integer between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Timeout of the model function in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "lambda_timeout_seconds must be an integer between 1 and 900."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the model function."
  type        = number
  default     = 10

  validation {
    condition     = var.lambda_reserved_concurrency >= 1 && var.lambda_reserved_concurrency <= 1000 && floor(var.lambda_reserved_concurrency) == var.lambda_reserved_concurrency
    error_message = "lambda_reserved_concurrency must be an integer between 1 and 1000."
  }
}

variable "lambda_log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.lambda_log_retention_days)
    error_message = "lambda_log_retention_days must be a retention CloudWatch Logs accepts (e.g. 30, 90, 365)."
  }
}

variable "ecr_keep_images" {
  description = "Number of most recent images kept in the ECR repository."
  type        = number
  default     = 20

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000 && floor(var.ecr_keep_images) == var.ecr_keep_images
    error_message = "ecr_keep_images must be an integer between 1 and 1000."
  }
}

variable "orchestration_role_name" {
  description = "Name of the IAM role the Dagster platform runs as."
  type        = string
  default     = "beer-platform-orchestration"

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.orchestration_role_name))
    error_message = "orchestration_role_name must be a valid IAM role name (1-64 characters)."
  }
}

variable "orchestration_assume_role_principal" {
  description = "Principal allowed to assume the orchestration role: {type = \"Service\" | \"AWS\", identifiers = [...]}. Default: ECS tasks (the Dagster ECS run launcher)."
  type = object({
    type        = string
    identifiers = list(string)
  })
  default = {
    type        = "Service"
    identifiers = ["ecs-tasks.amazonaws.com"]
  }

  validation {
    condition     = contains(["Service", "AWS"], var.orchestration_assume_role_principal.type)
    error_message = "orchestration_assume_role_principal.type must be Service or AWS."
  }

  validation {
    condition     = length(var.orchestration_assume_role_principal.identifiers) > 0 && !contains(var.orchestration_assume_role_principal.identifiers, "*")
    error_message = "orchestration_assume_role_principal.identifiers must be a non-empty list without \"*\"."
  }
}

variable "dagster_on_ecs" {
  description = "Run Dagster itself on ECS (the dagster module: webserver, daemon, code location, RDS). The local stack sets false: locally Dagster runs on the container engine."
  type        = bool
  default     = true
}

variable "dagster_services_image_uri" {
  description = "Image of Dagster's webserver and daemon (Dagster only, no platform code), in the ECR repository output as dagster_repository_urls.services; see docs/deploying.md for the first apply."
  type        = string
  default     = null

  validation {
    condition     = !var.dagster_on_ecs || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[^:@]+(:[A-Za-z0-9_.-]{1,128}|@sha256:[a-f0-9]{64})$", var.dagster_services_image_uri))
    error_message = "dagster_services_image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>."
  }
}

variable "dagster_code_image_uri" {
  description = "The user-code image (the code location and every run), in the ECR repository output as dagster_repository_urls.code; see docs/deploying.md for the first apply."
  type        = string
  default     = null

  validation {
    condition     = !var.dagster_on_ecs || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[^:@]+(:[A-Za-z0-9_.-]{1,128}|@sha256:[a-f0-9]{64})$", var.dagster_code_image_uri))
    error_message = "dagster_code_image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>."
  }
}

variable "punkapi_base_url" {
  description = "Base URL of the PunkAPI the runs on ECS ingest from (the public one is gone: serve the replica somewhere the VPC reaches), e.g. https://punkapi.example.com/v2."
  type        = string
  default     = null

  validation {
    condition     = !var.dagster_on_ecs || can(regex("^https?://[^/\\s]+(/\\S*)?$", var.punkapi_base_url))
    error_message = "punkapi_base_url must be an http(s) URL."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets, the ECR repository's images and the Athena workgroup's history (throwaway environments only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags on every resource (added to Project and ManagedBy)."
  type        = map(string)
  default     = {}
}
