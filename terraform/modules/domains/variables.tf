variable "custom_domain" {
  description = "The names: app (CloudFront), api (HTTP API), ws (WebSocket API); zone_id, a Route 53 public hosted zone holding them, where certificates are DNS-validated and alias records made; certificate_arn, an ACM certificate in this region covering api and ws; cloudfront_certificate_arn, one in us-east-1 covering app. A certificate not given is issued in the zone; without a zone, the dns_records output lists what to create elsewhere."
  type = object({
    app                        = string
    api                        = string
    ws                         = string
    zone_id                    = optional(string)
    certificate_arn            = optional(string)
    cloudfront_certificate_arn = optional(string)
  })

  validation {
    condition = alltrue([
      for name in [var.custom_domain.app, var.custom_domain.api, var.custom_domain.ws] :
      length(name) <= 253 && can(regex("^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$", name))
    ])
    error_message = "custom_domain.app, .api and .ws must be lower-case host names such as chat.example.com (no scheme, path, port, trailing dot or wildcard)."
  }

  validation {
    condition     = length(distinct([var.custom_domain.app, var.custom_domain.api, var.custom_domain.ws])) == 3
    error_message = "custom_domain.app, .api and .ws must be three different names: each is served by its own endpoint."
  }

  validation {
    condition     = var.custom_domain.zone_id != null || (var.custom_domain.certificate_arn != null && var.custom_domain.cloudfront_certificate_arn != null)
    error_message = "Give custom_domain.zone_id (certificates are issued and validated in that Route 53 zone) or both certificate_arn (api and ws, in this region) and cloudfront_certificate_arn (app, in us-east-1)."
  }

  validation {
    condition     = var.custom_domain.zone_id == null || can(regex("^Z[A-Z0-9]{1,31}$", var.custom_domain.zone_id))
    error_message = "custom_domain.zone_id must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (without /hostedzone/)."
  }

  validation {
    condition     = var.custom_domain.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:${data.aws_region.current.name}:[0-9]{12}:certificate/[0-9a-f-]+$", var.custom_domain.certificate_arn))
    error_message = "custom_domain.certificate_arn must be an ACM certificate in the environment's region (${data.aws_region.current.name}): API Gateway's regional endpoints take only those."
  }

  validation {
    condition     = var.custom_domain.cloudfront_certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$", var.custom_domain.cloudfront_certificate_arn))
    error_message = "custom_domain.cloudfront_certificate_arn must be an ACM certificate in us-east-1: CloudFront takes certificates from that region only."
  }
}

variable "http_api" {
  description = "The HTTP API and the stage api is mapped to: {id, stage} (the stage's name once it exists)."
  type = object({
    id    = string
    stage = string
  })
}

variable "websocket_api" {
  description = "The WebSocket API and the stage ws is mapped to: {id, stage} (the stage's name once it exists)."
  type = object({
    id    = string
    stage = string
  })
}

variable "cloudfront" {
  description = "The app's CloudFront distribution, which app points at: {domain_name, hosted_zone_id}."
  type = object({
    domain_name    = string
    hosted_zone_id = string
  })
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}
