output "topics" {
  description = "The pipeline's topics (gsm-rotator rotate publishes to secret_events)."
  value       = module.gsm_rotator.topics
}

output "managed_secrets" {
  description = "The managed secrets: add each one's first version out of band."
  value       = module.gsm_rotator.managed_secrets
}
