# Dagster's run, event-log and schedule storage: RDS Postgres in the private subnets, encrypted,
# TLS only, backed up, protected from deletion. RDS keeps the master password in Secrets Manager
# (manage_master_user_password): it is never in Terraform's state, and the tasks receive it as an
# ECS secret when they start.
#
# RDS rotates that password every 7 days by default, and Dagster opens a new connection per
# query: each service's health check connects with the password it started with, so a task whose
# password went stale turns unhealthy and ECS replaces it with one that reads the new one.

resource "aws_db_subnet_group" "this" {
  name        = var.name
  description = "Private subnets of ${var.name}"
  subnet_ids  = aws_subnet.private[*].id

  tags = var.tags
}

resource "aws_db_parameter_group" "this" {
  name        = "${var.name}-postgres${var.db_engine_version}"
  family      = "postgres${var.db_engine_version}"
  description = "TLS only, slow statements and connections logged"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000" # ms
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true # a new major version gets a new group before the instance moves
  }
}

resource "aws_cloudwatch_log_group" "db" {
  for_each = toset(["postgresql", "upgrade"])

  # RDS exports to this exact name; created here so that retention and encryption are ours.
  name              = "/aws/rds/instance/${local.db_identifier}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn

  tags = var.tags
}

resource "aws_db_instance" "this" {
  identifier     = local.db_identifier
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  db_name                       = "dagster"
  username                      = "dagster"
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.this.key_id
  port                          = 5432
  # Password authentication is what Dagster uses; IAM authentication stays available for people.
  iam_database_authentication_enabled = true

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false
  multi_az               = var.db_multi_az
  parameter_group_name   = aws_db_parameter_group.this.name

  backup_retention_period   = var.db_backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.db_identifier}-final"

  auto_minor_version_upgrade      = true
  allow_major_version_upgrade     = false
  enabled_cloudwatch_logs_exports = keys(aws_cloudwatch_log_group.db)
  monitoring_interval             = 60
  monitoring_role_arn             = aws_iam_role.rds_monitoring.arn
  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.this.arn

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.db]
}

# --- enhanced monitoring --------------------------------------------------------------------------

resource "aws_iam_role" "rds_monitoring" {
  name               = "${var.name}-rds-monitoring"
  description        = "Lets RDS enhanced monitoring publish ${var.name}'s OS metrics"
  assume_role_policy = data.aws_iam_policy_document.assume["monitoring.rds"].json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
