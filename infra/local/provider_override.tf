# Local only. The local stack links this file beside infra/'s root files in its own workspace
# (.stack/terraform/), never into infra/ itself, so AWS never sees it. The endpoint and throwaway
# credentials come from the environment the stack runs Terraform with (AWS_ENDPOINT_URL points
# every service at moto; AWS_ACCESS_KEY_ID=test): this file names neither.
provider "aws" {
  s3_use_path_style           = true  # bucket.127.0.0.1 resolves to nothing
  skip_credentials_validation = true  # the credentials are fake
  skip_metadata_api_check     = true  # no EC2 instance metadata here
  skip_requesting_account_id  = false # moto's STS answers: ARNs keep the account id
  # Attempts per call: a dropped keep-alive connection is tried again, an endpoint error still
  # shows within seconds (at the provider's default 25, one moto 500 was retried for 15 minutes).
  max_retries = 3
}
