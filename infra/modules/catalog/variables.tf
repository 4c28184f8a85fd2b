variable "glue_database" {
  description = "Name of the Glue Data Catalog database."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_database))
    error_message = "glue_database must be lower-case letters, digits and underscores (Athena-friendly)."
  }
}

variable "athena_workgroup" {
  description = "Name of the Athena workgroup queries run in."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,128}$", var.athena_workgroup))
    error_message = "athena_workgroup must be 1-128 characters of [a-zA-Z0-9._-]."
  }
}

variable "artifacts_bucket" {
  description = "Bucket receiving Athena query results, under athena-results/."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer managed KMS key encrypting the Athena query results."
  type        = string
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Athena cancels a query scanning more than this many bytes (minimum 10 MB)."
  type        = number
  default     = 10737418240 # 10 GiB

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760
    error_message = "bytes_scanned_cutoff_per_query must be at least 10485760 (10 MB)."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the workgroup while it still has saved queries/history."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
