variable "stream_name" {
  description = "Name of the Kinesis data stream the ingestion job writes beer events to."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.stream_name))
    error_message = "stream_name must be 1-128 characters of [a-zA-Z0-9_.-]."
  }
}

variable "predictions_stream_name" {
  description = "Name of the Kinesis data stream the served model's prediction records go to."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.predictions_stream_name))
    error_message = "predictions_stream_name must be 1-128 characters of [a-zA-Z0-9_.-]."
  }
}

variable "stream_shards" {
  description = "Number of shards of a PROVISIONED stream (each: 1 MB/s or 1000 records/s in); unused ON_DEMAND."
  type        = number

  validation {
    condition     = var.stream_shards >= 1 && var.stream_shards <= 500 && floor(var.stream_shards) == var.stream_shards
    error_message = "stream_shards must be an integer between 1 and 500."
  }
}

variable "stream_mode" {
  description = "PROVISIONED (stream_shards shards) or ON_DEMAND (Kinesis scales the shards)."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.stream_mode)
    error_message = "stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "retention_hours" {
  description = "How long records stay readable in the stream, in hours (Kinesis allows 24..8760)."
  type        = number
  default     = 48

  validation {
    condition     = var.retention_hours >= 24 && var.retention_hours <= 8760 && floor(var.retention_hours) == var.retention_hours
    error_message = "retention_hours must be an integer between 24 and 8760."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the stream's KMS key is deleted after a destroy."
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
