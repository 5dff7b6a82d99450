"""The operators' console: running the Relata business (public host, staff with MFA only).

It lives with billing because everything it shows and changes is billing's: plans, seats,
subscription states, trials, free periods, suspension and scheduled deletion. Every action is
written to the billing log with the operator as actor (the operator audit log).
"""
