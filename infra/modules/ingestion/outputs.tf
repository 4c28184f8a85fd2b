output "stream_name" {
  description = "Name of the Kinesis data stream."
  value       = aws_kinesis_stream.this.name
}

output "stream_arn" {
  description = "ARN of the Kinesis data stream."
  value       = aws_kinesis_stream.this.arn
}

output "stream_shards" {
  description = "Shard count of the stream."
  value       = aws_kinesis_stream.this.shard_count
}

output "kms_key_arn" {
  description = "ARN of the customer managed key encrypting the stream."
  value       = aws_kms_key.stream.arn
}

output "predictions_stream_name" {
  description = "Name of the prediction log's Kinesis data stream."
  value       = aws_kinesis_stream.predictions.name
}

output "predictions_stream_arn" {
  description = "ARN of the prediction log's Kinesis data stream."
  value       = aws_kinesis_stream.predictions.arn
}
