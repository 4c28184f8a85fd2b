output "ecr_repository" {
  description = "Name of the ECR repository."
  value       = aws_ecr_repository.this.name
}

output "ecr_repository_arn" {
  description = "ARN of the ECR repository."
  value       = aws_ecr_repository.this.arn
}

output "ecr_repository_url" {
  description = "URL of the ECR repository (docker push target)."
  value       = aws_ecr_repository.this.repository_url
}

output "lambda_role" {
  description = "Name of the function's execution role."
  value       = aws_iam_role.lambda.name
}

output "lambda_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "lambda_function" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_arn" {
  description = "Unqualified ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "lambda_alias" {
  description = "Name of the alias clients call."
  value       = aws_lambda_alias.live.name
}

output "lambda_alias_arn" {
  description = "ARN of the alias clients call."
  value       = aws_lambda_alias.live.arn
}

output "function_url" {
  description = "IAM-authenticated HTTPS endpoint of the alias."
  value       = aws_lambda_function_url.live.function_url
}

output "execution_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.this.name
}

output "kms_key_arn" {
  description = "ARN of the customer managed key encrypting the repository and the log group."
  value       = aws_kms_key.serving.arn
}
