# Who talks to whom: the webserver reaches the code server and the database; the daemon and the
# runs (one group: the run launcher starts runs in the daemon's own network configuration) reach
# the code server, the database and outside; the code server is reached by those two; the
# database by all three. Nothing is reachable from the internet, and the webserver (no login)
# from nowhere unless webserver_ingress_cidrs says so: SSM port forwarding enters through the
# task's own agent.

resource "aws_security_group" "webserver" {
  name        = "${var.name}-webserver"
  description = "Dagster webserver: no login, so reachable from inside the network only"
  vpc_id      = aws_vpc.this.id

  tags = var.tags
}

resource "aws_security_group" "workers" {
  name        = "${var.name}-daemon-and-runs"
  description = "Dagster daemon and the run tasks it launches: no inbound traffic"
  vpc_id      = aws_vpc.this.id

  tags = var.tags
}

resource "aws_security_group" "code" {
  name        = "${var.name}-code-server"
  description = "Dagster code location (gRPC), reached by the webserver and the daemon"
  vpc_id      = aws_vpc.this.id

  tags = var.tags
}

resource "aws_security_group" "db" {
  name        = "${var.name}-postgres"
  description = "Dagster's Postgres, reached by the webserver, the daemon, the runs and the code server"
  vpc_id      = aws_vpc.this.id

  tags = var.tags
}

# --- inbound --------------------------------------------------------------------------------------

resource "aws_vpc_security_group_ingress_rule" "webserver" {
  for_each = toset(var.webserver_ingress_cidrs)

  security_group_id = aws_security_group.webserver.id
  description       = "Dagster UI from inside the network"
  ip_protocol       = "tcp"
  from_port         = local.webserver_port
  to_port           = local.webserver_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "code" {
  for_each = {
    webserver = aws_security_group.webserver.id
    workers   = aws_security_group.workers.id
  }

  security_group_id            = aws_security_group.code.id
  description                  = "gRPC from the ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = local.code_server_port
  to_port                      = local.code_server_port
  referenced_security_group_id = each.value
}

resource "aws_vpc_security_group_ingress_rule" "db" {
  for_each = {
    webserver = aws_security_group.webserver.id
    workers   = aws_security_group.workers.id
    code      = aws_security_group.code.id
  }

  security_group_id            = aws_security_group.db.id
  description                  = "Postgres from the ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = aws_db_instance.this.port
  to_port                      = aws_db_instance.this.port
  referenced_security_group_id = each.value
}

# --- outbound -------------------------------------------------------------------------------------

# The webserver: the AWS APIs (ECS, S3 step logs, SSM sessions) over HTTPS, the code server, the database.
resource "aws_vpc_security_group_egress_rule" "webserver_https" {
  security_group_id = aws_security_group.webserver.id
  description       = "AWS APIs over HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "to_code" {
  for_each = {
    webserver = aws_security_group.webserver.id
    workers   = aws_security_group.workers.id
  }

  security_group_id            = each.value
  description                  = "gRPC to the code server"
  ip_protocol                  = "tcp"
  from_port                    = local.code_server_port
  to_port                      = local.code_server_port
  referenced_security_group_id = aws_security_group.code.id
}

resource "aws_vpc_security_group_egress_rule" "to_db" {
  for_each = {
    webserver = aws_security_group.webserver.id
    workers   = aws_security_group.workers.id
    code      = aws_security_group.code.id
  }

  security_group_id            = each.value
  description                  = "Postgres"
  ip_protocol                  = "tcp"
  from_port                    = aws_db_instance.this.port
  to_port                      = aws_db_instance.this.port
  referenced_security_group_id = aws_security_group.db.id
}

# The daemon, the runs and the code server (sensors) run platform code: it calls the AWS APIs and
# the PunkAPI, whose port is the user's choice, so any TCP port outside.
resource "aws_vpc_security_group_egress_rule" "outside" {
  for_each = {
    workers = aws_security_group.workers.id
    code    = aws_security_group.code.id
  }

  security_group_id = each.value
  description       = "AWS APIs and the PunkAPI (TCP, any port)"
  ip_protocol       = "tcp"
  from_port         = 0
  to_port           = 65535
  cidr_ipv4         = "0.0.0.0/0"
}
