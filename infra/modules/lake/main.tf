# Lake: the raw, cleaned and artifacts buckets (versioned, SSE-KMS with a customer managed key,
# no public access, TLS only, lifecycle rules, access logs) and the bucket receiving their access
# logs, hardened the same way wherever S3 allows it.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  partition    = data.aws_partition.current.partition
  account_id   = data.aws_caller_identity.current.account_id
  account_root = "arn:${local.partition}:iam::${local.account_id}:root"

  data_buckets = {
    raw       = var.raw_bucket
    cleaned   = var.cleaned_bucket
    artifacts = var.artifacts_bucket
  }
}

# --- encryption key ---------------------------------------------------------------------------

resource "aws_kms_key" "lake" {
  description             = "SSE-KMS of the beer platform's data buckets and Athena results"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days

  # Account-scoped key policy: IAM policies decide who may use the key.
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

resource "aws_kms_alias" "lake" {
  name          = "alias/${replace(var.raw_bucket, ".", "-")}-lake"
  target_key_id = aws_kms_key.lake.key_id
}

# --- data buckets -----------------------------------------------------------------------------

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_144:Single-region platform by design; versioning plus the KMS key protect against loss, raw data can be re-ingested from the source, and cross-region replication is a disaster-recovery cost decision outside this stack.
  for_each = local.data_buckets

  bucket        = each.value
  force_destroy = var.force_destroy

  tags = merge(var.tags, { "beer-platform/zone" = each.key })
}

resource "aws_s3_bucket_ownership_controls" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  for_each = local.data_buckets

  bucket                  = aws_s3_bucket.data[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.lake.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each = local.data_buckets

  bucket        = aws_s3_bucket.data[each.key].id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "${each.value}/"

  # S3 checks that the target grants log delivery when logging is enabled: the policy comes first.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

# EventBridge notifications: free until a rule subscribes, and lets a sensor react to new raw
# objects without polling.
resource "aws_s3_bucket_notification" "data" {
  for_each = local.data_buckets

  bucket      = aws_s3_bucket.data[each.key].id
  eventbridge = true
}

data "aws_iam_policy_document" "data_tls_only" {
  for_each = local.data_buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.data[each.key].arn,
      "${aws_s3_bucket.data[each.key].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id
  policy = data.aws_iam_policy_document.data_tls_only[each.key].json

  # A bucket policy cannot be put while the public access block is being created.
  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = local.data_buckets

  bucket = aws_s3_bucket.data[each.key].id

  rule {
    id     = "noncurrent-versions-and-failed-uploads"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Old raw data: tier it down, then expire it (the cleaned Parquet copy stays).
  dynamic "rule" {
    for_each = each.key == "raw" ? [var.raw_lifecycle_prefix] : []

    content {
      id     = "raw-tiering-and-expiry"
      status = "Enabled"

      filter {
        prefix = rule.value
      }

      transition {
        days          = var.raw_transition_days
        storage_class = var.raw_transition_storage_class
      }

      expiration {
        days = var.raw_expiration_days
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.raw_expiration_days > var.raw_transition_days
      error_message = "raw_expiration_days must be greater than raw_transition_days."
    }
    precondition {
      condition     = !contains(["STANDARD_IA", "ONEZONE_IA"], var.raw_transition_storage_class) || var.raw_transition_days >= 30
      error_message = "S3 requires raw_transition_days >= 30 for STANDARD_IA and ONEZONE_IA."
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

# --- access log bucket ------------------------------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log target itself; logging it to itself would log its own log writes in a loop, and to another bucket would only move the problem one bucket further.
  #checkov:skip=CKV_AWS_145:S3 server access logging cannot deliver to a bucket whose default encryption is SSE-KMS; SSE-S3 (AES256) is the only supported default for a log target.
  #checkov:skip=CKV_AWS_144:Access logs are audit data for this single-region stack; replicating them cross-region is a disaster-recovery cost decision outside this stack.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of the access-log bucket; notifications here would fire on every log delivery.
  bucket        = var.access_log_bucket
  force_destroy = var.force_destroy

  tags = merge(var.tags, { "beer-platform/zone" = "access-logs" })
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      # SSE-KMS is not supported for server access log delivery (see the skip above).
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "access_logs" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.access_logs.arn,
      "${aws_s3_bucket.access_logs.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # With BucketOwnerEnforced, log delivery is granted by policy (ACL grants are ignored).
  statement {
    sid       = "S3ServerAccessLogsDelivery"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for b in aws_s3_bucket.data : b.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = data.aws_iam_policy_document.access_logs.json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_log_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}
