# Serving: the IBU model (a BentoML service wrapped for Lambda) as a container-image Lambda
# function, its ECR repository, a `live` alias with an IAM-authenticated Function URL, and its
# log group, whose prediction lines a subscription filter delivers to the predictions stream.
#
# Terraform creates the function from var.image_uri once; afterwards the platform's deploy job
# pushes new images and moves the alias (update-function-code, publish-version, update-alias),
# so image_uri and the alias version are ignored after creation.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition      = data.aws_partition.current.partition
  account_id     = data.aws_caller_identity.current.account_id
  region         = data.aws_region.current.id
  account_root   = "arn:${local.partition}:iam::${local.account_id}:root"
  log_group_name = "/aws/lambda/${var.lambda_function}"
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group_name}"
  function_arn   = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.lambda_function}"
}

# --- encryption key (ECR images and the log group) --------------------------------------------

resource "aws_kms_key" "serving" {
  description             = "Encryption of the ${var.lambda_function} ECR repository and log group"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days

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
      {
        # CloudWatch Logs encrypts the function's log group, and only that log group.
        Sid       = "CloudWatchLogsForTheFunctionLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn }
        }
      },
    ]
  })

  tags = var.tags
}

resource "aws_kms_alias" "serving" {
  name          = "alias/${var.lambda_function}-serving"
  target_key_id = aws_kms_key.serving.key_id
}

# --- ECR ----------------------------------------------------------------------------------------

resource "aws_ecr_repository" "this" {
  name                 = var.ecr_repository
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete_repository

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.serving.arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images after a day"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 1
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the ${var.ecr_keep_images} most recent images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.ecr_keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

# Lambda pulls the image with this grant (restricted to this function); written here so that
# Lambda does not add it behind Terraform's back.
resource "aws_ecr_repository_policy" "this" {
  repository = aws_ecr_repository.this.name

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LambdaImagePull"
        Effect    = "Allow"
        Principal = { Service = "lambda.amazonaws.com" }
        Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Condition = {
          StringLike = { "aws:sourceArn" = [local.function_arn, "${local.function_arn}:*"] }
        }
      },
    ]
  })
}

# --- execution role: CloudWatch Logs (and X-Ray, which Active tracing needs), nothing else ------

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = var.lambda_role
  description        = "Execution role of the ${var.lambda_function} Lambda function"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json

  tags = var.tags
}

data "aws_iam_policy_document" "lambda_logs" {
  # The log group is created by Terraform, so no logs:CreateLogGroup.
  statement {
    sid       = "WriteOwnLogs"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  # Active tracing: these X-Ray actions support no resource-level scoping.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "lambda_logs" {
  name   = "logs-and-traces"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda_logs.json
}

# --- function, alias, URL, logs -----------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.serving.arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked only synchronously (Function URL / RequestResponse): there are no asynchronous events a dead-letter queue could catch.
  #checkov:skip=CKV_AWS_117:The model endpoint reaches no private resource; it answers only IAM-signed requests, and a VPC would add NAT cost and cold-start latency for nothing.
  #checkov:skip=CKV_AWS_272:Lambda code signing applies to .zip packages only; container images are not supported (image integrity comes from the IMMUTABLE, scanned ECR repository).
  function_name = var.lambda_function
  description   = "IBU prediction model (BentoML) for the beer platform"
  role          = aws_iam_role.lambda.arn
  package_type  = "Image"
  image_uri     = var.image_uri
  architectures = [var.architecture]
  memory_size   = var.memory_mb
  timeout       = var.timeout_seconds
  publish       = true

  reserved_concurrent_executions = var.reserved_concurrency

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  lifecycle {
    # New images are rolled out by the platform, not by Terraform.
    ignore_changes = [image_uri]
  }

  depends_on = [
    aws_iam_role_policy.lambda_logs,
    aws_ecr_repository_policy.this,
  ]
}

resource "aws_lambda_alias" "live" {
  name             = var.lambda_alias
  description      = "The version clients call; moved by the platform's deploy job"
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version

  lifecycle {
    ignore_changes = [function_version]
  }
}

resource "aws_lambda_function_url" "live" {
  function_name      = aws_lambda_function.this.function_name
  qualifier          = aws_lambda_alias.live.name
  authorization_type = "AWS_IAM"
  invoke_mode        = "BUFFERED"
}

# --- the prediction log: the function's prediction lines to the predictions stream ----------

data "aws_iam_policy_document" "assume_logs" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["logs.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values   = ["${local.log_group_arn}:*"]
    }
  }
}

resource "aws_iam_role" "log_delivery" {
  name               = "${var.lambda_function}-prediction-log"
  assume_role_policy = data.aws_iam_policy_document.assume_logs.json
  tags               = var.tags
}

data "aws_iam_policy_document" "log_delivery" {
  statement {
    effect    = "Allow"
    actions   = ["kinesis:PutRecord"]
    resources = [var.predictions_stream_arn]
  }
  statement {
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.stream_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "log_delivery" {
  name   = "put-prediction-lines"
  role   = aws_iam_role.log_delivery.id
  policy = data.aws_iam_policy_document.log_delivery.json
}

# Only the lines carrying a prediction record (PREDICTION_LOG_KEY in beer_platform/stream/records.py;
# a test keeps the two equal): START/END/REPORT and other output stay in the log group.
resource "aws_cloudwatch_log_subscription_filter" "predictions" {
  name            = "predictions"
  log_group_name  = aws_cloudwatch_log_group.this.name
  filter_pattern  = "\"beer_platform_prediction\""
  destination_arn = var.predictions_stream_arn
  role_arn        = aws_iam_role.log_delivery.arn

  depends_on = [aws_iam_role_policy.log_delivery]
}
