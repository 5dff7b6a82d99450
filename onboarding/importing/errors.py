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
            "This is not a spreadsheet, a 1C exchange file or a contacts file (xlsx, xls, csv, "
            "CommerceML, EnterpriseData, vCard)."
        ),
        "not_vcard": _(
            "The file is named .vcf but holds no vCard (it does not start with BEGIN:VCARD). "
            "Export the contacts again as vCard and upload the new file."
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
        "too_many_columns": _(
            "The file has more than %(limit)s columns. Save only the sheet with your clients "
            "(without empty columns) and upload it again."
        ),
        "line_too_long": _(
            "Line %(line)s of the file is longer than %(limit)s characters: this is not a list "
            "of clients. Check that the right file was chosen, or save the list from Excel as "
            "CSV again."
        ),
        "too_many_sheets": _(
            "The workbook has %(count)s sheets, more than the %(limit)s an import looks at. Save "
            "the sheet with your clients as a separate file and upload it."
        ),
        "empty_first_sheets": _(
            "The first %(count)s sheets of the workbook are empty. Move the sheet with your "
            "clients to the front, or save it as a separate file, and upload again."
        ),
        "too_deep": _(
            "The XML nests elements more than %(limit)s levels deep; a 1C exchange file never "
            "does. Export the file from 1C again."
        ),
        "nothing_in_head": _(
            "The first %(mb)s MB of the file hold no counterparties, documents, products or "
            "prices. Export only the data to import from 1C and upload again."
        ),
        "inspection_too_heavy": _(
            "Reading this file needs more than the %(mb)s MB of memory an upload may use. Save "
            "only the sheet with your clients, as xlsx or csv, and upload it again."
        ),
        "inspection_too_slow": _(
            "Reading this file took longer than %(seconds)s seconds. Save only the sheet with "
            "your clients, as xlsx or csv, and upload it again."
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
