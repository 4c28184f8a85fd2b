# Orchestration: the IAM role the Dagster platform runs as, allowed exactly what its assets and
# deploy job do, on exactly the platform's resources.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  glue_prefix = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}"
  bucket_arns = [var.raw_bucket_arn, var.cleaned_bucket_arn, var.artifacts_bucket_arn]
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "PlatformAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = var.assume_role_principal.type
      identifiers = var.assume_role_principal.identifiers
    }

    # Confused-deputy guard for service principals (e.g. ECS tasks of this account only).
    dynamic "condition" {
      for_each = var.assume_role_principal.type == "Service" ? [1] : []
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  description          = "Role of the beer platform's Dagster runs and model deploy job"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = var.max_session_duration

  tags = var.tags
}

data "aws_iam_policy_document" "platform" {
  statement {
    sid    = "KinesisPutGet"
    effect = "Allow"
    actions = [
      "kinesis:PutRecord",
      "kinesis:PutRecords",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:ListShards",
    ]
    resources = var.stream_arns
  }

  statement {
    sid    = "S3Buckets"
    effect = "Allow"
    actions = [
      "s3:ListBucket",
      "s3:GetBucketLocation",
      "s3:ListBucketMultipartUploads",
    ]
    resources = local.bucket_arns
  }

  statement {
    sid    = "S3ReadWriteObjects"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [for arn in local.bucket_arns : "${arn}/*"]
  }

  # Cleaned partitions are rewritten and state markers replaced; raw data is append-only.
  statement {
    sid     = "S3DeleteDerivedObjects"
    effect  = "Allow"
    actions = ["s3:DeleteObject"]
    resources = [
      "${var.cleaned_bucket_arn}/*",
      "${var.artifacts_bucket_arn}/*",
    ]
  }

  statement {
    sid    = "GlueDatabaseTablesPartitions"
    effect = "Allow"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
      "glue:DeletePartition",
      "glue:BatchDeletePartition",
    ]
    resources = [
      "${local.glue_prefix}:catalog",
      "${local.glue_prefix}:database/${var.glue_database}",
      "${local.glue_prefix}:table/${var.glue_database}/*",
    ]
  }

  statement {
    sid    = "AthenaWorkgroup"
    effect = "Allow"
    actions = [
      "athena:StartQueryExecution",
      "athena:GetQueryExecution",
      "athena:BatchGetQueryExecution",
      "athena:GetQueryResults",
      "athena:StopQueryExecution",
      "athena:GetWorkGroup",
    ]
    resources = [var.athena_workgroup_arn]
  }

  # GetAuthorizationToken is account-wide: ECR does not support resource-level scoping for it.
  statement {
    sid       = "EcrLogin"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid    = "EcrPush"
    effect = "Allow"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:DescribeImages",
      "ecr:DescribeRepositories",
    ]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid    = "LambdaDeploy"
    effect = "Allow"
    actions = [
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:UpdateFunctionCode",
      "lambda:PublishVersion",
      "lambda:ListVersionsByFunction",
      "lambda:GetAlias",
      "lambda:UpdateAlias",
      "lambda:GetFunctionUrlConfig",
      # `beer-platform lambda invoke` in aws, and smoke tests of a fresh deployment
      "lambda:InvokeFunction",
    ]
    resources = [
      var.lambda_function_arn,
      "${var.lambda_function_arn}:*",
    ]
  }

  statement {
    sid    = "KmsUse"
    effect = "Allow"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:DescribeKey",
    ]
    resources = var.kms_key_arns
  }
}

resource "aws_iam_role_policy" "platform" {
  name   = "beer-platform-least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.platform.json
}
