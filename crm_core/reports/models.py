"""What the reports keep beside crm_core's tables (kept by database triggers, never by hand)."""

from __future__ import annotations

from django.db import models


class DealReach(models.Model):
    """How far each deal got: the furthest open stage (by position) it has been at, and whether
    it was ever won or lost — its current stage and every StageChange folded into one row. The
    funnel counts these rows by (furthest, won, lost) instead of grouping the whole stage history
    per deal on every request. Kept by triggers on deals, stage changes and stages (migration
    0001), so imports, bulk writes and raw SQL keep it right too."""

    deal = models.OneToOneField(
        "crm_core.Deal",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the delete trigger removes the row
        db_constraint=False,
        related_name="+",
    )
    furthest = models.IntegerField(null=True)
    won = models.BooleanField(default=False)
    lost = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.furthest} won={self.won} lost={self.lost}"
