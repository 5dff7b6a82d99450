# Public Application Load Balancer in front of the web service.
# - :80 answers every request with a permanent redirect to https://.
# - :443 terminates TLS with the ACM certificate for domain and *.domain (dns.tf) and forwards
#   only requests for those hosts to the web tasks; any other Host gets a plain 404 here.
# - Invalid header fields are dropped, deletion is protected, access logs go to the logs bucket,
#   and a WAFv2 web ACL is attached when var.waf_web_acl_arn is set.

resource "aws_lb" "main" {
  #checkov:skip=CKV2_AWS_28:The WAF web ACL is the operator's (var.waf_web_acl_arn, associated below when set); this stack does not own WAF rules.
  #checkov:skip=CKV2_AWS_76:The WAF web ACL and its managed rule groups (incl. Log4j) are the operator's, passed in as var.waf_web_acl_arn.
  name               = "${local.name}-alb"
  load_balancer_type = "application"
  internal           = false
  subnets            = aws_subnet.public[*].id
  security_groups    = [aws_security_group.alb.id]

  drop_invalid_header_fields = true
  enable_deletion_protection = true
  desync_mitigation_mode     = "defensive"
  idle_timeout               = 60

  access_logs {
    bucket  = aws_s3_bucket.logs.id
    prefix  = "alb"
    enabled = true
  }

  depends_on = [aws_s3_bucket_policy.logs]
}

resource "aws_lb_target_group" "web" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB; the hop to gunicorn stays inside the VPC's private subnets, where only the ALB's security group reaches :8000, and the image carries no certificate.
  name                 = "${local.name}-web"
  port                 = local.app_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  # /healthz answers 200 when the database and the broker answer, 503 otherwise. The request
  # carries the task's IP as Host; the web launcher (ecs.tf) admits that host as public.
  health_check {
    enabled             = true
    protocol            = "HTTP"
    path                = "/healthz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:This listener only redirects to HTTPS (HTTP_301); no content is served over HTTP.
  #checkov:skip=CKV_AWS_103:This listener only redirects to HTTPS; TLS versions apply to the HTTPS listener, which uses a TLS 1.2+/1.3 policy.
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = aws_acm_certificate_validation.main.certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "Not found"
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener_rule" "web" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 100

  condition {
    host_header {
      values = [var.domain, "*.${var.domain}"]
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}

resource "aws_wafv2_web_acl_association" "alb" {
  count = var.waf_web_acl_arn == null ? 0 : 1

  resource_arn = aws_lb.main.arn
  web_acl_arn  = var.waf_web_acl_arn
}
