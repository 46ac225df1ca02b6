output "refresh_consumers_service_account" {
  description = "Add it to the Databricks workspace (WRITE on the scope, CAN_MANAGE_RUN on the job)."
  value       = module.gsm_rotator.refresh_consumers_service_account
}

output "reader_grants" {
  description = "Who may read the credential at run time."
  value       = module.gsm_rotator.reader_grants
}
