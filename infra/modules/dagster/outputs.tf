# --- what the `aws` instance's environment carries (local.instance_env) ---------------------------

output "instance_environment" {
  description = "The environment infra/dagster/dagster.yaml and workspace.yaml read, exactly as the task definitions set it (the password comes as a secret, DAGSTER_PG_PASSWORD, from DAGSTER_PG_PASSWORD_FROM)."
  value       = local.instance_env
}

output "db_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS keeps the master password in."
  value       = local.db_secret_arn
}

# --- everything else ------------------------------------------------------------------------------

output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_names" {
  description = "ECS service names by role (webserver, daemon, code)."
  value       = { for key, service in aws_ecs_service.this : key => service.name }
}

output "task_definition_families" {
  description = "Task definition families of the services by role (webserver, daemon, code)."
  value       = { for key, definition in aws_ecs_task_definition.this : key => definition.family }
}

output "repository_urls" {
  description = "ECR repositories to push the images to: services (webserver, daemon) and code (code location, runs)."
  value       = { for key, repository in aws_ecr_repository.this : key => repository.repository_url }
}

output "webserver_url" {
  description = "The UI inside the VPC (VPN or peered network); from elsewhere, forward a port through the webserver task (docs/deploying.md)."
  value       = "http://${local.webserver_host}:${local.webserver_port}"
}

output "webserver_port" {
  description = "Port the webserver listens on in its task."
  value       = local.webserver_port
}

output "vpc_id" {
  description = "ID of the module's VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Private subnets of the tasks and the database."
  value       = aws_subnet.private[*].id
}

output "security_group_ids" {
  description = "Security groups by role: webserver, workers (daemon and runs), code, db."
  value = {
    webserver = aws_security_group.webserver.id
    workers   = aws_security_group.workers.id
    code      = aws_security_group.code.id
    db        = aws_security_group.db.id
  }
}

output "kms_key_arn" {
  description = "ARN of the module's key (database, secret, images, logs, sessions)."
  value       = aws_kms_key.this.arn
}
