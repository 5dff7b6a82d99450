"""Tickets in the REST API (/api/v1/tickets/): the same token authentication, scopes, paging,
idempotency, error shape and OpenAPI description as crm_core's resources, since the viewset
derives from crm_core's ``MemberScopedViewSet`` (scoping to what the token's member sees cannot
be bypassed). A token limited to a list of resources reaches tickets when "tickets" is one of
them (or when it lists none: every resource)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from crm_core.api import serializers as s
from crm_core.api.views import MemberScopedViewSet, _documented
from crm_core.queries.clients import client_for
from service.models import Priority, Ticket
from service.queries import visible_tickets
from service.services import tickets as service
from tenants.models import Membership


class TicketOut(serializers.ModelSerializer[Ticket]):
    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "status",
            "priority",
            "source",
            "client",
            "contact",
            "requester_email",
            "requester_name",
            "requester_phone",
            "assignee",
            "queue",
            "first_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "solved_at",
            "created_at",
            "updated_at",
        ]


class TicketIn(serializers.Serializer[Any]):
    subject = s.Text(max_length=500)
    text = s.Text(max_length=100_000)
    requester_email = serializers.EmailField(required=False, allow_blank=True)
    requester_name = s.Text(max_length=300, required=False, allow_blank=True, default="")
    requester_phone = s.Text(max_length=64, required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    client = serializers.IntegerField(required=False, min_value=1)
    assignee = serializers.IntegerField(required=False, min_value=1)


class TicketChange(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    assignee = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class TicketFilters(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    requester_email = serializers.EmailField(required=False)
    client = serializers.IntegerField(required=False)


def _api_error(exc: ValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"non_field_errors": exc.messages})


@_documented(TicketOut, filters=TicketFilters, create=TicketIn, change=TicketChange)
class TicketViewSet(MemberScopedViewSet):
    """Customer-service tickets (обращения)."""

    resource = "tickets"
    serializer_class = TicketOut
    queryset = Ticket.objects.none()
    filters_class = TicketFilters

    def visible_to(self, membership: Membership) -> Any:
        return visible_tickets(membership)

    def narrow(self, queryset: Any, filters: dict[str, Any]) -> Any:
        if filters.get("status"):
            queryset = queryset.filter(status=filters["status"])
        if filters.get("requester_email"):
            queryset = queryset.filter(requester_email=filters["requester_email"].lower())
        if filters.get("client"):
            queryset = queryset.filter(client_id=filters["client"])
        return queryset

    def create(self, request: Request) -> Response:
        data = self._input(TicketIn)
        client = self._visible(client_for, data["client"], "client") if data.get("client") else None
        assignee = self._member_user(data["assignee"], "assignee") if data.get("assignee") else None
        try:
            ticket = service.open_ticket(
                company=self.company,
                subject=data["subject"],
                text=data["text"],
                source=Ticket.Source.API,
                actor=self.membership,
                requester=service.Requester(
                    data.get("requester_email", ""), data["requester_name"], data["requester_phone"]
                ),
                client=client,
                priority=data["priority"],
                assignee_id=assignee.pk if assignee else None,
            )
        except ValidationError as exc:
            raise _api_error(exc) from None
        return self._out(ticket, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        ticket = self.get_object()
        data = self._input(TicketChange)
        if not data:
            raise serializers.ValidationError({"non_field_errors": [_("Nothing to change.")]})
        assignee: Any = False
        if "assignee" in data:
            assignee = (
                self._member_user(data["assignee"], "assignee").pk if data["assignee"] else None
            )
        try:
            ticket = service.change(
                company=self.company,
                actor=self.membership,
                ticket=ticket,
                status=data.get("status"),
                priority=data.get("priority"),
                assignee_id=assignee,
            )
        except ValidationError as exc:
            raise _api_error(exc) from None
        return self._out(ticket)
