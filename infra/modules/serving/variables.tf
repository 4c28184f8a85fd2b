variable "ecr_repository" {
  description = "Name of the ECR repository holding the IBU model's Lambda container images."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.ecr_repository)) && length(var.ecr_repository) <= 256
    error_message = "ecr_repository must be a valid ECR repository name (lower case, up to 256 characters)."
  }
}

variable "ecr_keep_images" {
  description = "Number of most recent images the ECR lifecycle policy keeps (untagged ones expire after a day)."
  type        = number
  default     = 20

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000 && floor(var.ecr_keep_images) == var.ecr_keep_images
    error_message = "ecr_keep_images must be an integer between 1 and 1000."
  }
}

variable "lambda_function" {
  description = "Name of the Lambda function serving the IBU model."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.lambda_function))
    error_message = "lambda_function must be 1-64 characters of [a-zA-Z0-9_-]."
  }
}

variable "lambda_role" {
  description = "Name of the function's IAM execution role."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.lambda_role))
    error_message = "lambda_role must be 1-64 characters of [a-zA-Z0-9+=,.@_-]."
  }
}

variable "lambda_alias" {
  description = "Name of the alias clients invoke (the Function URL is attached to it)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,128}$", var.lambda_alias)) && !can(regex("^[0-9]+$", var.lambda_alias))
    error_message = "lambda_alias must be 1-128 characters of [a-zA-Z0-9_-] and not a version number."
  }
}

variable "image_uri" {
  description = "ECR image URI (tag or digest) of the model's container image for the first deployment; later images are rolled out by the platform."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[^:@]+(:[A-Za-z0-9_.-]{1,128}|@sha256:[a-f0-9]{64})$", var.image_uri))
    error_message = "image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>."
  }
}

variable "architecture" {
  description = "Instruction set of the container image."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_mb" {
  description = "Memory of the function in MB (CPU scales with it)."
  type        = number
  default     = 1024

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240 && floor(var.memory_mb) == var.memory_mb
    error_message = "memory_mb must be an integer between 128 and 10240."
  }
}

variable "timeout_seconds" {
  description = "Function timeout in seconds (cold start of the BentoML image takes several seconds)."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be an integer between 1 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: caps the function's cost and protects the account's other functions."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1 && var.reserved_concurrency <= 1000 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be an integer between 1 and 1000."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "predictions_stream_arn" {
  description = "ARN of the Kinesis stream the function's prediction log lines are delivered to."
  type        = string
}

variable "stream_kms_key_arn" {
  description = "ARN of the KMS key encrypting the predictions stream (the log delivery role encrypts with it)."
  type        = string
}

variable "force_delete_repository" {
  description = "Allow terraform destroy to delete the ECR repository while it still holds images."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the serving KMS key is deleted after a destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
