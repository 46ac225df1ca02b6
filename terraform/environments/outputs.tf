output "gsm_rotator" {
  description = "Topics, functions, service accounts, secrets, consumer grants and monitoring of the environment."
  value = {
    topics                            = module.gsm_rotator.topics
    functions                         = module.gsm_rotator.functions
    refresh_consumers_service_account = module.gsm_rotator.refresh_consumers_service_account
    managed_secrets                   = module.gsm_rotator.managed_secrets
    admin_secrets                     = module.gsm_rotator.admin_secrets
    reader_grants                     = module.gsm_rotator.reader_grants
    dead_letter_subscriptions         = module.gsm_rotator.dead_letter_subscriptions
    log_bucket                        = module.gsm_rotator.log_bucket
    log_metrics                       = module.gsm_rotator.log_metrics
    dashboard                         = module.gsm_rotator.dashboard
    retire_tick_job                   = module.gsm_rotator.retire_tick_job
  }
}
