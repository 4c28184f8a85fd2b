variable "role_name" {
  description = "Name of the IAM role the Dagster orchestration (runs, deploy job) assumes."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be a valid IAM role name (1-64 characters)."
  }
}

variable "assume_role_principal" {
  description = "Who may assume the role: a Service principal (e.g. ecs-tasks.amazonaws.com for ECS run workers) or AWS principals (role/user ARNs)."
  type = object({
    type        = string
    identifiers = list(string)
  })

  validation {
    condition     = contains(["Service", "AWS"], var.assume_role_principal.type)
    error_message = "assume_role_principal.type must be Service or AWS."
  }

  validation {
    condition     = length(var.assume_role_principal.identifiers) > 0 && alltrue([for i in var.assume_role_principal.identifiers : i != "*" && length(trimspace(i)) > 0])
    error_message = "assume_role_principal.identifiers must be a non-empty list without \"*\"."
  }
}

variable "stream_arns" {
  description = "ARNs of the Kinesis streams (put and get): the catalogue's and the prediction log's."
  type        = list(string)
}

variable "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  type        = string
}

variable "cleaned_bucket_arn" {
  description = "ARN of the cleaned bucket."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket (models, state, Athena results)."
  type        = string
}

variable "glue_database" {
  description = "Name of the Glue database whose tables and partitions the platform manages."
  type        = string
}

variable "athena_workgroup_arn" {
  description = "ARN of the Athena workgroup."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the ECR repository the deploy job pushes to."
  type        = string
}

variable "lambda_function_arn" {
  description = "Unqualified ARN of the model's Lambda function."
  type        = string
}

variable "kms_key_arns" {
  description = "ARNs of the customer managed keys the platform encrypts/decrypts with (stream, lake)."
  type        = list(string)

  validation {
    condition     = length(var.kms_key_arns) > 0
    error_message = "kms_key_arns must not be empty."
  }
}

variable "max_session_duration" {
  description = "Maximum session duration of the role, in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
