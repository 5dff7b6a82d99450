"""The REST API's endpoints. Thin: the token's member reads through crm_core's visibility
queries and writes through its services; this module only translates HTTP.

Every viewset derives from ``MemberScopedViewSet``, whose ``get_queryset`` always starts from
``visible_to(membership)`` — there is no way for a subclass to list records outside what the
token's member may see (subclasses define ``visible_to`` and optionally ``narrow``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from crm_core.access import require_admin
from crm_core.api import idempotency
from crm_core.api import serializers as s
from crm_core.api.auth import TokenAccess
from crm_core.api.errors import body
from crm_core.api.services import receive_request
from crm_core.automation.models import WebhookSubscription
from crm_core.automation.services.subscriptions import save_subscription
from crm_core.models import Client, Contact, Deal, Lead, Pipeline, Product, Stage, Task
from crm_core.queries.clients import client_for, visible_clients, visible_contacts
from crm_core.queries.deals import deal_for, visible_deals
from crm_core.queries.leads import visible_leads
from crm_core.queries.tasks import visible_tasks
from crm_core.services.clients import (
    ClientInput,
    ContactInput,
    create_client,
    save_contact,
    update_client,
)
from crm_core.services.deals import create_deal, move_deal, update_deal
from crm_core.services.products import save_product
from crm_core.services.tasks import complete_task, create_task
from relata.inputs import whole_number
from tenants.models import Company, Membership, User


class NewestFirst(CursorPagination):
    """Cursor paging (no COUNT, no deep OFFSET): stable and cheap over 200,000 deals."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        # DRF falls back to the default on a bad limit; we say what is wrong instead.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = whole_number(raw)
        if not size:
            raise serializers.ValidationError({"limit": [_("A whole number from 1 to 200.")]})
        return min(size, self.max_page_size)

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise serializers.ValidationError(
                {"cursor": [_("Use the next or previous link of a page as it is.")]}
            ) from None


class ErrorSerializer(serializers.Serializer[Any]):
    class Detail(serializers.Serializer[Any]):
        code = serializers.CharField()
        message = serializers.CharField()
        fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))

    error = Detail()


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="No valid token"),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for this token or member"),
    404: OpenApiResponse(ErrorSerializer, description="No such record visible to this token"),
    409: OpenApiResponse(
        ErrorSerializer, description="A request with this Idempotency-Key is still running"
    ),
    422: OpenApiResponse(
        ErrorSerializer, description="The Idempotency-Key was used with a different request"
    ),
    429: OpenApiResponse(ErrorSerializer, description="Rate limit reached"),
}

IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (e.g. a UUID). A retry with the same key within 24 hours gets the "
        "first answer again (header Idempotent-Replayed: true) instead of a second record."
    ),
)


def _with_errors(*codes: int, ok: dict[int, Any] | None = None) -> dict[int, Any]:
    return {**{code: ERRORS[code] for code in codes}, **(ok or {})}


def _documented(
    out: type[serializers.Serializer[Any]],
    *,
    filters: type[serializers.Serializer[Any]] | None = None,
    create: type[serializers.Serializer[Any]] | None = None,
    change: type[serializers.Serializer[Any]] | None = None,
    change_answers: dict[int, Any] | None = None,
    change_description: str | None = None,
    **more: Any,
) -> Callable[[type[Any]], type[Any]]:
    """The OpenAPI description every resource shares: list (with its filters), retrieve, and
    create / partial update when the resource takes them; ``more`` adds other actions."""
    actions: dict[str, Any] = {
        "list": extend_schema(
            parameters=[filters] if filters else None,
            responses=_with_errors(400, 401, 403, 429, ok={200: out(many=True)}),
        ),
        "retrieve": extend_schema(responses=_with_errors(401, 403, 404, 429, ok={200: out})),
    }
    if create is not None:
        actions["create"] = extend_schema(
            request=create,
            parameters=[IDEMPOTENCY_KEY],
            responses=_with_errors(400, 401, 403, 409, 422, 429, ok={201: out}),
        )
    if change is not None:
        actions["partial_update"] = extend_schema(
            request=change,
            description=change_description,
            responses=_with_errors(
                400, 401, 403, 404, 429, ok={200: out, **(change_answers or {})}
            ),
        )
    return extend_schema_view(**actions, **more)


def _field_error(name: str, message: str) -> ValidationError:
    return ValidationError({name: [message]})


class _Replay(Exception):  # noqa: N818  (not an error: the earlier answer, given again)
    def __init__(self, status_code: int, data: Any) -> None:
        super().__init__(status_code)
        self.status_code, self.data = status_code, data


class _IdempotencyConflict(exceptions.APIException):
    def __init__(self, conflict: str) -> None:
        if conflict == "in_progress":
            self.status_code = status.HTTP_409_CONFLICT
            detail = _("A request with this Idempotency-Key is still being processed.")
        else:
            self.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
            detail = _("This Idempotency-Key was used with a different request.")
        super().__init__(detail, code=f"idempotency_{conflict}")


class MemberScopedViewSet(viewsets.GenericViewSet):
    resource: ClassVar[str]
    filters_class: ClassVar[type[serializers.Serializer[Any]] | None] = None
    pagination_class = NewestFirst

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Scoping cannot be bypassed by accident: subclasses narrow, they never replace it.
        super().__init_subclass__(**kwargs)
        for name in ("get_queryset", "get_object"):
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} must not override {name}; define visible_to")

    @property
    def membership(self) -> Membership:
        access = self.request.auth
        assert isinstance(access, TokenAccess)
        return access.membership

    @property
    def company(self) -> Company:
        return self.request.company

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and request.headers.get(idempotency.HEADER, "").strip():
            # The key's claim, the write and the stored answer commit together or not at all:
            # a request that dies half-way (the database restarting, the process killed)
            # leaves the key free for the retry instead of "in progress" for ever, and a
            # simultaneous twin waits on the claim's unique index, then replays the answer.
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self._idempotent: idempotency.IdempotentRequest | None = None
        key = request.headers.get(idempotency.HEADER, "").strip()
        if request.method != "POST" or not key:
            return
        if len(key) > 255:
            raise _field_error(idempotency.HEADER, _("The key is longer than 255 characters."))
        access = request.auth
        assert isinstance(access, TokenAccess)
        found = idempotency.claim(
            access.token,
            key,
            idempotency.fingerprint(request.method, request.path, request.body),
        )
        if found.conflict:
            raise _IdempotencyConflict(found.conflict)
        if found.replay is not None:
            raise _Replay(*found.replay)
        self._idempotent = found.record

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return Response(
                exc.data, status=exc.status_code, headers={"Idempotent-Replayed": "true"}
            )
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        record = getattr(self, "_idempotent", None)
        if record is not None and isinstance(response, Response):
            idempotency.finish(record, response.status_code, response.data)
            self._idempotent = None
        return super().finalize_response(request, response, *args, **kwargs)

    def visible_to(self, membership: Membership) -> QuerySet[Any]:
        """The records this member may see; every resource defines it (never a bare queryset)."""
        raise NotImplementedError(f"{type(self).__name__} must define visible_to")

    def narrow(self, queryset: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
        return queryset

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no token
            return self.queryset.none() if self.queryset is not None else QuerySet().none()
        queryset = self.visible_to(self.membership)
        if self.action == "list" and self.filters_class is not None:
            # A plain dict, not the QueryDict: DRF skips empty values of a QueryDict (form
            # leniency), and "updated_since=" must be an error, not "no filter".
            checked = self.filters_class(data=self.request.query_params.dict())
            checked.is_valid(raise_exception=True)
            queryset = self.narrow(queryset, checked.validated_data)
        return queryset

    def get_object(self) -> Any:
        # 404 alike for "not there" and "not yours": another company's id, or a colleague's
        # deal a manager may not see, is simply not found.
        pk = str(self.kwargs["pk"])
        if whole_number(pk) is None:
            raise Http404("not an id")
        return get_object_or_404(self.get_queryset(), pk=int(pk))

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def _out(self, obj: Model, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(obj).data, status=code)

    def _input(self, serializer: type[serializers.Serializer[Any]]) -> dict[str, Any]:
        checked = serializer(data=self.request.data)
        checked.is_valid(raise_exception=True)
        return dict(checked.validated_data)

    def _member_user(self, user_id: int, field: str) -> User:
        membership = (
            Membership.objects.select_related("user")
            .filter(company=self.company, user_id=user_id, is_active=True)
            .first()
        )
        if membership is None:
            raise _field_error(field, _("Not an active member of this company."))
        return membership.user

    def _visible(self, finder: Callable[[Membership, int], Any], pk: int, field: str) -> Any:
        try:
            return finder(self.membership, pk)
        except Http404:
            raise _field_error(field, _("No such record.")) from None


def _since(queryset: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
    if filters.get("updated_since"):
        queryset = queryset.filter(updated_at__gte=filters["updated_since"])
    if filters.get("responsible"):
        queryset = queryset.filter(responsible_id=filters["responsible"])
    return queryset


# --- clients ------------------------------------------------------------------------------


@_documented(
    s.ClientOut,
    filters=s.ListFilters,
    create=s.ClientIn,
    change=s.ClientChange,
    change_answers={409: ERRORS[400]},
)
class ClientViewSet(MemberScopedViewSet):
    """Clients (companies and people the company sells to)."""

    resource = "clients"
    serializer_class = s.ClientOut
    queryset = Client.objects.none()
    filters_class = s.ListFilters

    def visible_to(self, membership: Membership) -> QuerySet[Any]:
        return visible_clients(membership).prefetch_related("phones")

    def narrow(self, queryset: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
        return _since(queryset, filters)

    def create(self, request: Request) -> Response:
        data = self._input(s.ClientIn)
        client = create_client(
            membership=self.membership, company=self.company, data=ClientInput(**data)
        )
        return self._out(client, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        client = self.get_object()
        data = self._input(s.ClientChange)
        if "responsible" in data:
            data["responsible_id"] = self._member_user(data.pop("responsible"), "responsible").pk
        inn = data.pop("inn", client.inn)
        foreign = data.pop("foreign_tax_id", client.inn_status == Client.TaxIdStatus.FOREIGN)
        updated = update_client(
            membership=self.membership,
            client=client,
            version=data.pop("version"),
            inn=inn,
            foreign_tax_id=foreign,
            **data,
        )
        return self._out(updated)


# --- contacts -----------------------------------------------------------------------------


@_documented(s.ContactOut, filters=s.ContactFilters, create=s.ContactIn, change=s.ContactIn)
class ContactViewSet(MemberScopedViewSet):
    """Contact persons, of a client or on their own."""

    resource = "contacts"
    serializer_class = s.ContactOut
    queryset = Contact.objects.none()
    filters_class = s.ContactFilters

    def visible_to(self, membership: Membership) -> QuerySet[Any]:
        return visible_contacts(membership).prefetch_related("phones")

    def narrow(self, queryset: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
        if filters.get("client"):
            queryset = queryset.filter(client_id=filters["client"])
        return _since(queryset, filters)

    def _save(self, contact: Contact | None) -> Contact:
        data = self._input(s.ContactIn)
        client = contact.client if contact is not None else None
        if contact is None and data.get("client"):
            client = self._visible(client_for, data["client"], "client")
        elif contact is not None and "client" in data and data["client"] != contact.client_id:
            raise _field_error("client", _("A contact person stays with their client."))

        def value(name: str, default: Any) -> Any:
            if name in data:
                return data[name]
            return getattr(contact, name) if contact is not None else default

        phones = data.get("phones")
        if phones is None:
            phones = [p.raw for p in contact.phones.all()] if contact is not None else []
        messengers = contact.messengers if contact is not None else {}
        return save_contact(
            membership=self.membership,
            company=self.company,
            client=client,
            contact=contact,
            data=ContactInput(
                last_name=value("last_name", ""),
                first_name=value("first_name", ""),
                middle_name=value("middle_name", ""),
                position=value("position", ""),
                emails=value("emails", []),
                phones=phones,
                telegram=messengers.get("telegram", ""),
                whatsapp=messengers.get("whatsapp", ""),
                custom=contact.custom if contact is not None else {},
            ),
        )

    def create(self, request: Request) -> Response:
        return self._out(self._save(None), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self._out(self._save(self.get_object()))


# --- deals --------------------------------------------------------------------------------


@_documented(
    s.DealOut,
    filters=s.DealFilters,
    create=s.DealIn,
    change=s.DealChange,
    change_description="Send the `version` you read. If the deal changed since, the answer is "
    "409 with code `stale_version` and nothing is saved.",
    change_answers={409: OpenApiResponse(ErrorSerializer, description="Stale version")},
)
class DealViewSet(MemberScopedViewSet):
    """Deals; a change carries the version it was based on."""

    resource = "deals"
    serializer_class = s.DealOut
    queryset = Deal.objects.none()
    filters_class = s.DealFilters

    def visible_to(self, membership: Membership) -> QuerySet[Any]:
        return visible_deals(membership)

    def narrow(self, queryset: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
        if filters.get("pipeline"):
            queryset = queryset.filter(pipeline_id=filters["pipeline"])
        if filters.get("stage"):
            queryset = queryset.filter(stage_id=filters["stage"])
        return _since(queryset, filters)

    def create(self, request: Request) -> Response:
        data = self._input(s.DealIn)
        pipeline = (
            Pipeline.objects.filter(pk=data["pipeline"]).first()
            if data.get("pipeline")
            else Pipeline.objects.order_by("-is_default", "position").first()
        )
        if pipeline is None:
            raise _field_error("pipeline", _("No such pipeline."))
        stage = None
        if data.get("stage"):
            stage = Stage.objects.filter(pk=data["stage"], pipeline=pipeline).first()
            if stage is None:
                raise _field_error("stage", _("Choose a stage of this pipeline."))
        client = self._visible(client_for, data["client"], "client") if data.get("client") else None
        deal = create_deal(
            membership=self.membership,
            title=data["title"],
            pipeline=pipeline,
            stage=stage,
            client=client,
            amount=data["amount"],
            source=data["source"],
        )
        return self._out(deal, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        deal = self.get_object()
        data = self._input(s.DealChange)
        version = data.pop("version")
        stage_id = data.pop("stage", None)
        lost_reason = data.pop("lost_reason", "")
        if "responsible" in data:
            data["responsible_id"] = self._member_user(data.pop("responsible"), "responsible").pk
        stage = None
        if stage_id is not None:
            stage = Stage.objects.filter(pk=stage_id, pipeline_id=deal.pipeline_id).first()
            if stage is None:
                raise _field_error("stage", _("Choose a stage of this deal's pipeline."))
        with transaction.atomic():
            deal = update_deal(membership=self.membership, deal=deal, version=version, **data)
            if stage is not None:
                # The field change (if any) bumped the version; the move continues from it.
                expected = deal.version if data else version
                deal = move_deal(
                    membership=self.membership,
                    deal=deal,
                    stage=stage,
                    version=expected,
                    lost_reason=lost_reason,
                )
        return self._out(deal_for(self.membership, deal.pk))


# --- tasks --------------------------------------------------------------------------------


@_documented(s.TaskOut, filters=s.TaskFilters, create=s.TaskIn, change=s.TaskChange)
class TaskViewSet(MemberScopedViewSet):
    """Tasks (calls, meetings, measurements…) with deadlines."""

    resource = "tasks"
    serializer_class = s.TaskOut
    queryset = Task.objects.none()
    filters_class = s.TaskFilters

    def visible_to(self, membership: Membership) -> QuerySet[Any]:
        return visible_tasks(membership)

    def narrow(self, queryset: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
        if filters.get("assignee"):
            queryset = queryset.filter(assignee_id=filters["assignee"])
        if filters.get("deal"):
            queryset = queryset.filter(deal_id=filters["deal"])
        if filters.get("done") is not None:
            queryset = queryset.filter(done_at__isnull=not filters["done"])
        return queryset

    def create(self, request: Request) -> Response:
        data = self._input(s.TaskIn)
        deal = self._visible(deal_for, data["deal"], "deal") if data.get("deal") else None
        assignee = self._member_user(data["assignee"], "assignee") if data.get("assignee") else None
        task = create_task(
            membership=self.membership,
            title=data["title"],
            kind=data["kind"],
            deadline=data["deadline"],
            assignee=assignee,
            deal=deal,
        )
        return self._out(task, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        task = self.get_object()
        data = self._input(s.TaskChange)
        if not data["done"]:
            raise _field_error("done", _("A task that is done stays done."))
        return self._out(complete_task(membership=self.membership, task=task))


# --- products -----------------------------------------------------------------------------


@_documented(
    s.ProductOut,
    create=s.ProductIn,
    change=s.ProductChange,
    destroy=extend_schema(
        description="Takes the product off the price list (deals keep what they were sold at).",
        responses=_with_errors(401, 403, 404, 429, ok={204: None}),
    ),
)
class ProductViewSet(MemberScopedViewSet):
    """The price list. Everyone reads it; owners and admins change it."""

    resource = "products"
    serializer_class = s.ProductOut
    queryset = Product.objects.none()

    def visible_to(self, membership: Membership) -> QuerySet[Any]:
        # The price list as the API sees it: a product taken off it (DELETE) is gone.
        return Product.objects.filter(is_active=True)

    def _save(self, product: Product | None, data: dict[str, Any]) -> Product:
        def value(name: str, default: Any) -> Any:
            if name in data:
                return data[name]
            return getattr(product, name) if product is not None else default

        return save_product(
            membership=self.membership,
            name=value("name", ""),
            sku=value("sku", ""),
            unit=value("unit", ""),
            price=value("price", 0),
            vat_rate=data.get("vat_rate"),
            is_active=data.get("is_active", True),
            product=product,
        )

    def create(self, request: Request) -> Response:
        return self._out(self._save(None, self._input(s.ProductIn)), status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        return self._out(self._save(product, self._input(s.ProductChange)))

    def destroy(self, request: Request, pk: str) -> Response:
        product = self.get_object()
        self._save(product, {"is_active": False})  # deals keep the name and price sold at
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- requests (leads) ---------------------------------------------------------------------


@_documented(s.RequestOut, filters=s.RequestFilters, create=s.RequestIn)
class RequestViewSet(MemberScopedViewSet):
    """Incoming requests (leads): the inbox managers take work from."""

    resource = "requests"
    serializer_class = s.RequestOut
    queryset = Lead.objects.none()
    filters_class = s.RequestFilters

    def visible_to(self, membership: Membership) -> QuerySet[Any]:
        return visible_leads(membership)

    def narrow(self, queryset: QuerySet[Any], filters: dict[str, Any]) -> QuerySet[Any]:
        if filters.get("status"):
            queryset = queryset.filter(status=filters["status"])
        if filters.get("source"):
            queryset = queryset.filter(source=filters["source"])
        if filters.get("received_since"):
            queryset = queryset.filter(created_at__gte=filters["received_since"])
        return queryset

    def create(self, request: Request) -> Response:
        lead = receive_request(membership=self.membership, **self._input(s.RequestIn))
        return self._out(lead, status.HTTP_201_CREATED)


# --- outgoing webhook subscriptions ---------------------------------------------------------


@_documented(
    s.WebhookSubscriptionOut,
    create=s.WebhookSubscriptionIn,
    change=s.WebhookSubscriptionChange,
    change_description="Set `is_active` to false to stop deliveries; subscriptions are not "
    "deleted, so their delivery log stays.",
)
class WebhookSubscriptionViewSet(MemberScopedViewSet):
    """Where the company's CRM events are POSTed (owners and admins only). Each delivery is
    signed: `X-Relata-Signature: sha256=<HMAC-SHA256 of "<X-Relata-Timestamp>.<body>">` with
    the subscription's secret, which is returned once, when the subscription is created."""

    resource = "webhooks"
    serializer_class = s.WebhookSubscriptionOut
    queryset = WebhookSubscription.objects.none()

    def visible_to(self, membership: Membership) -> QuerySet[Any]:
        require_admin(membership)
        return WebhookSubscription.objects.all()

    @extend_schema(
        request=s.WebhookSubscriptionIn,
        parameters=[IDEMPOTENCY_KEY],
        responses=_with_errors(
            400, 401, 403, 409, 422, 429, ok={201: s.WebhookSubscriptionCreated}
        ),
    )
    def create(self, request: Request) -> Response:
        subscription = save_subscription(
            membership=self.membership, **self._input(s.WebhookSubscriptionIn)
        )
        return Response(
            s.WebhookSubscriptionCreated(subscription).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        data = self._input(s.WebhookSubscriptionChange)
        changed = save_subscription(
            membership=self.membership,
            subscription=subscription,
            url=data.get("url", subscription.url),
            events=data.get("events", subscription.events),
            is_active=data.get("is_active", subscription.is_active),
            description=data.get("description", subscription.description),
        )
        return self._out(changed)


@csrf_exempt
def not_found(request: HttpRequest, unknown: str) -> JsonResponse:
    """Any other address under the API answers in the API's error format, not an HTML page."""
    return JsonResponse(body("not_found", _("There is nothing at this address.")), status=404)
