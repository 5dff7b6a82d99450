from django.dispatch import Signal

# Sent inside the provisioning transaction with the new company's schema active.
# Receivers add the company's starting data; an exception aborts the whole sign-up.
company_provisioned = Signal()

# Sent before a company's schema and rows are dropped for good. Receivers stop whatever would
# outlive the data (billing cancels the Stripe subscription); an exception stops the purge, so
# a company is never deleted while it is still being charged.
company_purging = Signal()

# Sent when a person joins a company by accepting its invitation, inside the transaction that
# makes the membership (with the public schema active). Receivers hand the newcomer what was
# kept for them (onboarding: an import's records awaiting the invited person); an exception
# aborts the joining, so nothing is half done. Arguments: company, user, membership.
member_joined = Signal()
