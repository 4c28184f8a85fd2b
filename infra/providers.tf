provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ Project = "beer-platform", ManagedBy = "terraform" }, var.tags)
  }
}
