output "glue_database" {
  description = "Name of the Glue database."
  value       = aws_glue_catalog_database.this.name
}

output "glue_database_arn" {
  description = "ARN of the Glue database."
  value       = aws_glue_catalog_database.this.arn
}

output "athena_workgroup" {
  description = "Name of the Athena workgroup."
  value       = aws_athena_workgroup.this.name
}

output "athena_workgroup_arn" {
  description = "ARN of the Athena workgroup."
  value       = aws_athena_workgroup.this.arn
}

output "athena_results_location" {
  description = "S3 location of the workgroup's (encrypted) query results."
  value       = aws_athena_workgroup.this.configuration[0].result_configuration[0].output_location
}
