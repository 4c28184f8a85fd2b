variable "raw_bucket" {
  description = "Name of the bucket holding raw ingested data (gzip JSON lines, partitioned by ingestion date)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.raw_bucket))
    error_message = "raw_bucket must be a valid S3 bucket name."
  }
}

variable "cleaned_bucket" {
  description = "Name of the bucket holding cleaned Parquet data (the Glue table's location)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.cleaned_bucket))
    error_message = "cleaned_bucket must be a valid S3 bucket name."
  }
}

variable "artifacts_bucket" {
  description = "Name of the bucket holding models, platform state and Athena query results."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket))
    error_message = "artifacts_bucket must be a valid S3 bucket name."
  }
}

variable "access_log_bucket" {
  description = "Name of the bucket receiving the S3 server access logs of the three data buckets."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be a valid S3 bucket name."
  }
}

variable "raw_lifecycle_prefix" {
  description = "Key prefix of the raw data the tiering/expiry rule applies to (RAW_PREFIX in beer_platform/names.py, plus '/')."
  type        = string
  default     = "beers/"
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
  description = "Storage class raw objects transition to."
  type        = string
  default     = "STANDARD_IA"

  validation {
    condition     = contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.raw_transition_storage_class)
    error_message = "raw_transition_storage_class must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }
}

variable "raw_expiration_days" {
  description = "Age in days after which raw objects expire (must be later than the transition)."
  type        = number
  default     = 365

  validation {
    condition     = var.raw_expiration_days >= 2 && floor(var.raw_expiration_days) == var.raw_expiration_days
    error_message = "raw_expiration_days must be an integer >= 2."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which noncurrent object versions are deleted, in every bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a positive integer."
  }
}

variable "access_log_expiration_days" {
  description = "Days S3 access logs are kept in the log bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_expiration_days >= 1 && floor(var.access_log_expiration_days) == var.access_log_expiration_days
    error_message = "access_log_expiration_days must be a positive integer."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets (keep false outside throwaway environments)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the lake's KMS key is deleted after a destroy."
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
