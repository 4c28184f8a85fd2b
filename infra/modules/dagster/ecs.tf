# The cluster, the three services and their task definitions, and Cloud Map names: the webserver
# and the daemon find the code server at code.<namespace> (workspace.yaml's grpc_server), and
# people inside the network find the UI at webserver.<namespace>.

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  # ECS Exec (how a user reaches the UI: SSM port forwarding through the webserver task): the
  # sessions are encrypted with the module's key and logged.
  configuration {
    execute_command_configuration {
      kms_key_id = aws_kms_key.this.arn
      logging    = "OVERRIDE"

      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.this["ecs-exec-sessions"].name
      }
    }
  }

  tags = var.tags
}

# --- service discovery ----------------------------------------------------------------------------

resource "aws_service_discovery_private_dns_namespace" "this" {
  name        = local.namespace
  description = "Names of ${var.name}'s services inside its VPC"
  vpc         = aws_vpc.this.id

  tags = var.tags
}

resource "aws_service_discovery_service" "this" {
  for_each = toset(["code", "webserver"])

  name = each.key

  dns_config {
    namespace_id   = aws_service_discovery_private_dns_namespace.this.id
    routing_policy = "MULTIVALUE"

    dns_records {
      ttl  = 10
      type = "A"
    }
  }

  health_check_custom_config {
    failure_threshold = 1
  }

  tags = var.tags
}

# --- task definitions -----------------------------------------------------------------------------

locals {
  # The images need no shell (the project's have none) and no copy of infra/dagster/: the webserver
  # and the daemon start with a few lines of Python that write the instance and workspace files
  # Terraform hands them (DAGSTER_INSTANCE_YAML, DAGSTER_WORKSPACE_YAML: no secret in either) into
  # DAGSTER_HOME on the task's scratch volume, then become `python -m <module> <args>`. A change to
  # infra/dagster/ reaches the services with an apply.
  dagster_home = "/tmp/dagster_home"
  with_dagster_home = [var.image_python, "-c", join(";", [
    "import os,sys",
    "home=os.environ['DAGSTER_HOME']",
    "os.makedirs(home,exist_ok=True)",
    "[open(os.path.join(home,name),'w').write(os.environ[source]) for name,source in (('dagster.yaml','DAGSTER_INSTANCE_YAML'),('workspace.yaml','DAGSTER_WORKSPACE_YAML'))]",
    "os.execv(sys.executable,[sys.executable,'-m',*sys.argv[1:]])",
  ])]
  instance_files = {
    DAGSTER_HOME           = local.dagster_home
    DAGSTER_INSTANCE_YAML  = var.instance_yaml
    DAGSTER_WORKSPACE_YAML = var.workspace_yaml
  }

  # Each service's health check first connects to Postgres with the password the task started
  # with: after RDS rotates it, the task turns unhealthy and ECS starts one with the new password.
  db_ping = join(";", [
    "import os,psycopg2",
    "e=os.environ",
    "psycopg2.connect(host=e['DAGSTER_PG_HOST'],port=e['DAGSTER_PG_PORT'],dbname=e['DAGSTER_PG_DB'],user=e['DAGSTER_PG_USERNAME'],password=e['DAGSTER_PG_PASSWORD'],sslmode='require',connect_timeout=5).close()",
  ])

  services = {
    webserver = {
      image         = var.services_image_uri
      repository    = "services"
      task_role_arn = aws_iam_role.webserver.arn
      command       = concat(local.with_dagster_home, ["dagster_webserver", "--host", "0.0.0.0", "--port", tostring(local.webserver_port), "--workspace", "${local.dagster_home}/workspace.yaml"])
      environment   = merge(local.instance_env, local.instance_files)
      port          = local.webserver_port
      health_check  = ["CMD", var.image_python, "-c", "${local.db_ping};import urllib.request;urllib.request.urlopen('http://127.0.0.1:${local.webserver_port}/server_info',timeout=5)"]
      read_only     = false # ECS Exec's agent writes to the container's root filesystem
      registry      = aws_service_discovery_service.this["webserver"].arn
    }
    daemon = {
      image         = var.services_image_uri
      repository    = "services"
      task_role_arn = aws_iam_role.daemon.arn
      command       = concat(local.with_dagster_home, ["dagster._daemon", "run", "--workspace", "${local.dagster_home}/workspace.yaml"])
      # The run launcher copies the platform's environment from here into every run's task.
      environment  = merge(local.instance_env, var.platform_environment, local.instance_files)
      port         = null
      health_check = ["CMD", var.image_python, "-m", "dagster._daemon", "liveness-check"]
      read_only    = true
      registry     = null
    }
    code = {
      image         = var.code_image_uri
      repository    = "code"
      task_role_arn = var.orchestration_role_arn
      # --use-python-environment-entry-point: each run's command starts with this python too.
      command = [var.image_python, "-m", "dagster", "code-server", "start", "--host", "0.0.0.0", "--port", tostring(local.code_server_port),
      "--module-name", var.code_module, "--location-name", var.code_location_name, "--use-python-environment-entry-point"]
      # DAGSTER_CURRENT_IMAGE: the image the run launcher starts every run of this location from.
      environment  = merge(local.instance_env, var.platform_environment, { DAGSTER_CURRENT_IMAGE = var.code_image_uri })
      port         = local.code_server_port
      health_check = ["CMD", var.image_python, "-c", "${local.db_ping};import socket;socket.create_connection(('127.0.0.1',${local.code_server_port}),5).close()"]
      read_only    = true
      registry     = aws_service_discovery_service.this["code"].arn
    }
  }
}

resource "aws_ecs_task_definition" "this" {
  for_each = local.services

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_sizes[each.key].cpu
  memory                   = var.task_sizes[each.key].memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = each.value.task_role_arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "tmp" # scratch space on the task's ephemeral storage
  }

  container_definitions = jsonencode([
    {
      name                   = each.key
      image                  = each.value.image
      essential              = true
      command                = each.value.command
      readonlyRootFilesystem = each.value.read_only
      environment            = [for name in sort(keys(each.value.environment)) : { name = name, value = each.value.environment[name] }]
      secrets                = [{ name = "DAGSTER_PG_PASSWORD", valueFrom = local.db_password_value_from }]
      mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
      portMappings           = each.value.port == null ? [] : [{ containerPort = each.value.port, protocol = "tcp" }]
      healthCheck = {
        command     = each.value.health_check
        interval    = 60
        timeout     = 30
        retries     = 3
        startPeriod = 180
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this["tasks"].name
          awslogs-region        = local.region
          awslogs-stream-prefix = each.key
        }
      }
    },
  ])

  tags = var.tags

  lifecycle {
    precondition {
      condition     = anytrue([for separator in [":", "@"] : startswith(each.value.image, "${aws_ecr_repository.this[each.value.repository].repository_url}${separator}")])
      error_message = "The ${each.key} image must be in this module's ${each.value.repository} repository: the execution role pulls from it only."
    }
  }
}

# --- services -------------------------------------------------------------------------------------

locals {
  service_security_groups = {
    webserver = aws_security_group.webserver.id
    daemon    = aws_security_group.workers.id # the runs get the daemon's network configuration
    code      = aws_security_group.code.id
  }
}

resource "aws_ecs_service" "this" {
  for_each = local.services

  name             = "${var.name}-${each.key}"
  cluster          = aws_ecs_cluster.this.id
  task_definition  = aws_ecs_task_definition.this[each.key].arn
  desired_count    = 1
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  # Exactly one daemon may run, and Dagster's own ECS example stops the code server before a
  # new one starts; the webserver rolls over without a gap.
  deployment_minimum_healthy_percent = each.key == "webserver" ? 100 : 0
  deployment_maximum_percent         = each.key == "webserver" ? 200 : 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  enable_execute_command  = each.key == "webserver"
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [local.service_security_groups[each.key]]
    assign_public_ip = false
  }

  dynamic "service_registries" {
    for_each = each.value.registry == null ? [] : [each.value.registry]
    content {
      registry_arn = service_registries.value
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.execution, aws_nat_gateway.this]
}
