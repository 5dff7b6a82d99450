"""What happened in the CRM, for the parts that react to it (stage rules, SLA timers, outgoing
webhooks, billing counters) without the services knowing about them.

Sent by the services inside the write's transaction, after the change is made. A receiver
that talks to the outside world (e-mail, HTTP, Celery) must do so in
``transaction.on_commit`` so nothing is sent for a change that is then rolled back.
Every signal carries ``membership`` — the member who acted, or None when the system did (a
request from the website, an import, a timer).
"""

from __future__ import annotations

from django.dispatch import Signal

# Arguments: the deal, membership.
deal_created = Signal()
# Arguments: the deal (already at the new stage), from_stage, to_stage, membership.
deal_moved = Signal()
# Arguments: the deal, changes ({field: (old, new)}), membership.
deal_changed = Signal()
# Arguments: the client, membership.
client_created = Signal()
# Arguments: the contact, whether it was created, membership.
contact_saved = Signal()
# Arguments: the task, membership.
task_created = Signal()
# Arguments: the task, membership.
task_completed = Signal()
# Arguments: the lead, membership (None for requests from the website or the API).
lead_received = Signal()
# Many at once (bulk actions on a list): the same events for a chunk of records, so receivers
# can do set-based work and skip what nobody listens to.
# Arguments: deals (already at the new stage), from_stages ({deal id: Stage}), to_stage,
# membership.
deals_moved = Signal()
# Arguments: tasks (just made, with their ids), membership.
tasks_created = Signal()
# Arguments: deals, changes ({deal id: {field: (old, new)}}), membership.
deals_changed = Signal()
# Arguments: tasks (just done, with done_at set), membership — the open tasks of closed deals.
tasks_completed = Signal()
# Arguments: contacts, membership.
contacts_changed = Signal()
# Two contact persons are about to be merged (keep, other): sent before other's rows move to
# keep, so an app whose rows may be once per contact person drops other's doubles first.
contacts_merging = Signal()
