variable "name" {
  description = "Prefix of every resource's name (cluster, services, database, repositories, roles, log group)."
  type        = string
  default     = "beer-platform-dagster"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lower-case letters, digits and hyphens, starting with a letter."
  }
}

# --- images ---------------------------------------------------------------------------------------

variable "services_image_uri" {
  description = "Image of the webserver and the daemon (Dagster, dagster-webserver, dagster-postgres, dagster-aws importable by image_python; no platform code), in this module's services repository."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[^:@]+(:[A-Za-z0-9_.-]{1,128}|@sha256:[a-f0-9]{64})$", var.services_image_uri))
    error_message = "services_image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>."
  }
}

variable "code_image_uri" {
  description = "The user-code image (this package and its locked dependencies, importable by image_python), in this module's code repository: the code location serves it over gRPC and every run is a task of it."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[^:@]+(:[A-Za-z0-9_.-]{1,128}|@sha256:[a-f0-9]{64})$", var.code_image_uri))
    error_message = "code_image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>."
  }
}

variable "keep_images" {
  description = "Number of most recent images each repository keeps (untagged ones expire after a day)."
  type        = number
  default     = 20

  validation {
    condition     = var.keep_images >= 1 && var.keep_images <= 1000 && floor(var.keep_images) == var.keep_images
    error_message = "keep_images must be an integer between 1 and 1000."
  }
}

variable "force_delete_repositories" {
  description = "Let terraform destroy delete the repositories with their images (throwaway environments only)."
  type        = bool
  default     = false
}

# --- the code location and the instance -----------------------------------------------------------

variable "code_location_name" {
  description = "Name of the code location (workspace.yaml's location_name and the UI's)."
  type        = string
  default     = "beer_platform"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,63}$", var.code_location_name))
    error_message = "code_location_name must be a Python-identifier-like name of up to 64 characters."
  }
}

variable "code_module" {
  description = "Python module holding the Definitions the code server serves."
  type        = string
  default     = "beer_platform.definitions"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$", var.code_module))
    error_message = "code_module must be a dotted Python module name."
  }
}

variable "image_python" {
  description = "The Python interpreter of both images (Dagster runs as `<python> -m ...`: the images need no console scripts and no shell)."
  type        = string
  default     = "/usr/bin/python3.11"

  validation {
    condition     = startswith(var.image_python, "/")
    error_message = "image_python must be an absolute path."
  }
}

variable "instance_yaml" {
  description = "Contents of the instance's dagster.yaml (infra/dagster/dagster.yaml): the webserver and the daemon write it into DAGSTER_HOME at start. It must hold no secret: it is part of the task definitions."
  type        = string
}

variable "workspace_yaml" {
  description = "Contents of the workspace file (infra/dagster/workspace.yaml), written beside dagster.yaml."
  type        = string
}

variable "platform_environment" {
  description = "Environment of the code location and of every run (BEER_PLATFORM_ENV, BEER_PLATFORM_NAMES, PUNKAPI_BASE_URL): the daemon carries it too, and the run launcher copies it into each run's task."
  type        = map(string)

  validation {
    condition     = alltrue([for key in keys(var.platform_environment) : can(regex("^[A-Z_][A-Z0-9_]*$", key)) && !startswith(key, "DAGSTER_")])
    error_message = "platform_environment keys must be upper-case environment variable names outside DAGSTER_*, which the module sets itself."
  }
}

variable "run_task_family_prefix" {
  description = "task_definition_prefix of the EcsRunLauncher: the run task definitions it registers are named <prefix>_..., and its IAM policy allows running exactly those."
  type        = string
  default     = "dagster-run"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,15}$", var.run_task_family_prefix))
    error_message = "run_task_family_prefix must be 1-16 letters, digits or hyphens, starting with a letter."
  }
}

# --- what the platform already has (other modules) ------------------------------------------------

variable "orchestration_role_arn" {
  description = "ARN of the role the platform's code runs as (modules/orchestration): the task role of the code location and of every run. It must be assumable by ecs-tasks.amazonaws.com."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.orchestration_role_arn))
    error_message = "orchestration_role_arn must be an IAM role ARN."
  }
}

variable "artifacts_bucket" {
  description = "Name of the artifacts bucket: the runs' step logs go under dagster/compute-logs/ there."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket (the webserver reads the step logs)."
  type        = string
}

variable "artifacts_kms_key_arn" {
  description = "ARN of the key the artifacts bucket encrypts with (the webserver decrypts the step logs)."
  type        = string
}

# --- network --------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the module's VPC (two public and two private subnets are carved from it)."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR block of /20 or larger."
  }
}

variable "webserver_ingress_cidrs" {
  description = "Networks allowed to reach the webserver's port directly (a VPN's or a peered network's CIDR). Empty (the default): none; SSM port forwarding through the webserver task needs no ingress."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.webserver_ingress_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "webserver_ingress_cidrs must be IPv4 CIDR blocks, never 0.0.0.0/0 (the webserver has no login)."
  }
}

# --- database -------------------------------------------------------------------------------------

variable "db_instance_class" {
  description = "Instance class of the Postgres database holding runs, events and schedules."
  type        = string
  default     = "db.t4g.micro"

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must be an RDS instance class such as db.t4g.micro."
  }
}

variable "db_engine_version" {
  description = "Major version of PostgreSQL (minor versions are upgraded automatically in the maintenance window)."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[4-9]$", var.db_engine_version))
    error_message = "db_engine_version must be a PostgreSQL major version between 14 and 19."
  }
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the database in GiB (grows by itself up to db_max_allocated_storage_gb)."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 65536 && floor(var.db_allocated_storage_gb) == var.db_allocated_storage_gb
    error_message = "db_allocated_storage_gb must be an integer between 20 and 65536."
  }
}

variable "db_max_allocated_storage_gb" {
  description = "Ceiling of the database's storage autoscaling in GiB."
  type        = number
  default     = 100

  validation {
    condition     = var.db_max_allocated_storage_gb >= 20 && floor(var.db_max_allocated_storage_gb) == var.db_max_allocated_storage_gb
    error_message = "db_max_allocated_storage_gb must be an integer of at least 20."
  }
}

variable "db_multi_az" {
  description = "Keep a standby of the database in a second availability zone (about doubles its cost)."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery) of the database."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35 && floor(var.db_backup_retention_days) == var.db_backup_retention_days
    error_message = "db_backup_retention_days must be an integer between 1 and 35."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the database (turn off, apply, then destroy, to remove it)."
  type        = bool
  default     = true
}

# --- sizes and logs -------------------------------------------------------------------------------

variable "task_sizes" {
  description = "Fargate CPU units and memory (MiB) of each service's task. Runs are sized in infra/dagster/dagster.yaml (run_resources)."
  type = map(object({
    cpu    = number
    memory = number
  }))
  default = {
    webserver = { cpu = 256, memory = 1024 }
    daemon    = { cpu = 256, memory = 512 }
    code      = { cpu = 256, memory = 1024 }
  }

  validation {
    condition     = toset(keys(var.task_sizes)) == toset(["webserver", "daemon", "code"])
    error_message = "task_sizes must have exactly the keys webserver, daemon and code."
  }
}

variable "log_retention_days" {
  description = "Retention of the module's log groups (services, runs, sessions, database, VPC flow logs), in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (e.g. 30, 90, 365)."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the module's KMS key is deleted after a destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
