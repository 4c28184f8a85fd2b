# Catalog: the Glue database and the Athena workgroup.
#
# Only the database is declared here. Its tables are created and updated by the platform at run
# time, one per table declared in beer_platform/lake/tables.py: the platform owns each table's
# schema and registers a partition per ingestion date as it cleans a day. Declaring the tables in
# Terraform as well would make every apply fight the platform over their columns and partitions.

resource "aws_glue_catalog_database" "this" {
  name        = var.glue_database
  description = "BrewDog PunkAPI v2 beer catalogue (tables created by the beer platform at run time)."

  tags = var.tags
}

resource "aws_athena_workgroup" "this" {
  name          = var.athena_workgroup
  description   = "Queries over the beer platform's Glue database."
  state         = "ENABLED"
  force_destroy = var.force_destroy

  configuration {
    # Clients cannot override the result location or its encryption.
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    result_configuration {
      output_location = "s3://${var.artifacts_bucket}/athena-results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}
