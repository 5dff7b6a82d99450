"""The call event in Relata's own format: validated here, described in the OpenAPI schema."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

EVENTS = ("started", "answered", "ended", "missed")


class CallEventSerializer(serializers.Serializer):
    """One event of one call. Send each event once; a retry with the same ``call_id`` and
    ``event`` is answered 200 ``duplicate`` and changes nothing."""

    event = serializers.ChoiceField(
        choices=EVENTS,
        help_text="started: the call reached the PBX or an extension rings; answered; ended: "
        "after a conversation; missed: nobody answered.",
    )
    call_id = serializers.CharField(max_length=128, help_text="The PBX's id of the whole call.")
    direction = serializers.ChoiceField(choices=("incoming", "outgoing"))
    from_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    to_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    extension = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="The manager's extension that rings, answered or dialled.",
    )
    duration = serializers.IntegerField(
        min_value=0, max_value=7 * 24 * 3600, required=False, help_text="Talk time, seconds."
    )
    recording_url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, help_text="http(s) link to the audio."
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="ISO 8601; default: now.")

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        number = attrs.get("from_number") if attrs["direction"] == "incoming" else None
        number = number if number is not None else attrs.get("to_number")
        if not number:
            raise serializers.ValidationError(
                _(
                    "Give the customer's number: from_number of an incoming call, to_number of an "
                    "outgoing one."
                )
            )
        return attrs


class CallEventAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=("taken", "duplicate", "ignored"))


class CallEventErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="signature, stale, malformed, invalid or not_connected")
    message = serializers.CharField()
    fields = serializers.DictField(required=False)
