"""Why a file cannot be imported, said so that a person understands it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class UnreadableFile(Exception):  # noqa: N818  (a reason, not a programming error)
    """The file as a whole cannot be read: nothing is imported from it."""

    MESSAGES = {
        "empty": _("The file is empty."),
        "too_large": _("The file is larger than the %(limit)s MB an import accepts."),
        "encrypted": _(
            "The file is protected with a password. Save it without a password and upload again."
        ),
        "wrong_format": _(
            "This is not a spreadsheet or a 1C exchange file (xlsx, xls, csv, CommerceML, "
            "EnterpriseData)."
        ),
        "corrupt": _("The file is damaged or not what its name says: %(detail)s"),
        "zip_bomb": _(
            "The archive unpacks to more than an import accepts (%(detail)s): it was refused "
            "before anything was extracted."
        ),
        "no_header": _("No header row was found in the first rows of the sheet."),
        "no_data": _("The file has a header but no data rows."),
        "header_out_of_reach": _(
            "The header row has to be one of the first %(rows)s rows of the sheet."
        ),
        "nothing_to_import": _(
            "The file holds no counterparties, documents, products or prices: nothing to import."
        ),
    }

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        return (
            str(self.MESSAGES[self.code]) % self.params
            if self.params
            else str(self.MESSAGES[self.code])
        )
