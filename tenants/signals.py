from django.dispatch import Signal

# Sent inside the provisioning transaction with the new company's schema active.
# Receivers add the company's starting data; an exception aborts the whole sign-up.
company_provisioned = Signal()
