output "raw_bucket" {
  description = "Name of the raw bucket."
  value       = aws_s3_bucket.data["raw"].id
}

output "cleaned_bucket" {
  description = "Name of the cleaned bucket."
  value       = aws_s3_bucket.data["cleaned"].id
}

output "artifacts_bucket" {
  description = "Name of the artifacts bucket."
  value       = aws_s3_bucket.data["artifacts"].id
}

output "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  value       = aws_s3_bucket.data["raw"].arn
}

output "cleaned_bucket_arn" {
  description = "ARN of the cleaned bucket."
  value       = aws_s3_bucket.data["cleaned"].arn
}

output "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = aws_s3_bucket.data["artifacts"].arn
}

output "access_log_bucket" {
  description = "Name of the bucket receiving the data buckets' access logs."
  value       = aws_s3_bucket.access_logs.id
}

output "kms_key_arn" {
  description = "ARN of the customer managed key encrypting the data buckets."
  value       = aws_kms_key.lake.arn
}
