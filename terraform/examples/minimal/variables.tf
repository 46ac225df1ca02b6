variable "project_id" {
  description = "The project to deploy into (one project per environment)."
  type        = string
}

variable "region" {
  description = "Region of the functions."
  type        = string
}

variable "function_source_bucket" {
  description = "Bucket holding the function archive (npm run pack:function, then upload: docs/deploy.md)."
  type        = string
}

variable "function_source_object" {
  description = "The archive, e.g. gsm-rotator/COMMIT_SHA.zip."
  type        = string
}
