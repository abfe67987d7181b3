output "http_api_url" {
  description = "The HTTP API's base URL on its custom name (the app's httpApiUrl): known at plan time, available once the mapping (and, with a zone, the DNS records) exist."
  value       = "https://${aws_apigatewayv2_api_mapping.this["api"].domain_name}"
  depends_on  = [aws_route53_record.api]
}

output "ws_url" {
  description = "The WebSocket URL on its custom name (the app's wsUrl; the stage is mapped at the root, so no path)."
  value       = "wss://${aws_apigatewayv2_api_mapping.this["ws"].domain_name}"
  depends_on  = [aws_route53_record.api]
}

output "certificate_arn" {
  description = "The regional certificate the API names use (validated, if issued here)."
  value       = local.regional_certificate_arn
}

output "cloudfront_certificate_arn" {
  description = "The us-east-1 certificate for the app's distribution (validated, if issued here)."
  value       = local.cloudfront_certificate_arn
}

output "dns_records" {
  description = "Without a zone_id: the records to create at the domain's DNS provider, [{name, type, target}] (CNAMEs; at a zone apex use the provider's ALIAS/ANAME). Empty with a zone_id: the module made alias records there."
  value = local.zone_id != null ? [] : concat(
    [{ name = var.custom_domain.app, type = "CNAME", target = var.cloudfront.domain_name }],
    [
      for key, api in local.apis : {
        name   = api.name
        type   = "CNAME"
        target = aws_apigatewayv2_domain_name.this[key].domain_name_configuration[0].target_domain_name
      }
    ],
  )
}
