from django.dispatch import Signal

# Sent inside the provisioning transaction with the new company's schema active.
# Receivers add the company's starting data; an exception aborts the whole sign-up.
company_provisioned = Signal()

# Sent before a company's schema and rows are dropped for good. Receivers stop whatever would
# outlive the data (billing cancels the Stripe subscription); an exception stops the purge, so
# a company is never deleted while it is still being charged.
company_purging = Signal()
