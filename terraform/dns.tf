# DNS in the existing Route 53 zone (var.hosted_zone_id) and the TLS certificate.
#   <domain>       A (alias) -> ALB   the public site
#   *.<domain>     A (alias) -> ALB   every company, https://<slug>.<domain>/
# The ACM certificate covers both names and is validated through DNS records in the same zone.

resource "aws_acm_certificate" "main" {
  domain_name               = var.domain
  subject_alternative_names = ["*.${var.domain}"]
  validation_method         = "DNS"
  key_algorithm             = "RSA_2048"

  lifecycle {
    create_before_destroy = true
  }
}

# ACM validates the apex and the wildcard with one and the same CNAME record, so one record
# (the apex's) validates both names.
locals {
  certificate_validation = one([
    for option in aws_acm_certificate.main.domain_validation_options : option
    if option.domain_name == var.domain
  ])
}

resource "aws_route53_record" "certificate_validation" {
  zone_id = var.hosted_zone_id
  name    = local.certificate_validation.resource_record_name
  type    = local.certificate_validation.resource_record_type
  records = [local.certificate_validation.resource_record_value]
  ttl     = 300
}

resource "aws_acm_certificate_validation" "main" {
  certificate_arn         = aws_acm_certificate.main.arn
  validation_record_fqdns = [aws_route53_record.certificate_validation.fqdn]
}

resource "aws_route53_record" "apex" {
  zone_id = var.hosted_zone_id
  name    = var.domain
  type    = "A"

  alias {
    name                   = aws_lb.main.dns_name
    zone_id                = aws_lb.main.zone_id
    evaluate_target_health = true
  }
}

resource "aws_route53_record" "wildcard" {
  zone_id = var.hosted_zone_id
  name    = "*.${var.domain}"
  type    = "A"

  alias {
    name                   = aws_lb.main.dns_name
    zone_id                = aws_lb.main.zone_id
    evaluate_target_health = true
  }
}
