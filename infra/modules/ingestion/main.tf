# Ingestion: the Kinesis data streams the platform lands into the raw bucket itself (so no
# Firehose is needed): the catalogue's (the ingestion job writes beer events to it) and the
# served model's prediction log (the model server writes to it; the Lambda's log group is
# subscribed to it, see the serving module).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

resource "aws_kms_key" "stream" {
  description             = "Server-side encryption of the ${var.stream_name} Kinesis stream"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days

  # Account-scoped key policy: IAM policies of the account decide who may use the key (the
  # orchestration role gets kms use on exactly this key).
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "stream" {
  name          = "alias/${replace(var.stream_name, ".", "-")}-stream"
  target_key_id = aws_kms_key.stream.key_id
}

resource "aws_kinesis_stream" "this" {
  name             = var.stream_name
  shard_count      = var.stream_mode == "PROVISIONED" ? var.stream_shards : null
  retention_period = var.retention_hours

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream.arn

  shard_level_metrics = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "ReadProvisionedThroughputExceeded",
    "WriteProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
  ]

  tags = var.tags
}

resource "aws_kinesis_stream" "predictions" {
  name             = var.predictions_stream_name
  shard_count      = var.stream_mode == "PROVISIONED" ? var.stream_shards : null
  retention_period = var.retention_hours

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream.arn

  shard_level_metrics = [
    "IncomingRecords",
    "IteratorAgeMilliseconds",
    "WriteProvisionedThroughputExceeded",
  ]

  tags = var.tags
}
