"""How much work one upload may cause while a person waits for a page.

The upload and the mapping page read the file's head in the web request: what they read is
bounded here, not by the file's size. A file past a bound is refused with a message saying
which bound and what to do (UnreadableFile), before anything is stored or imported.
"""

from __future__ import annotations

# Columns of a sheet. The widest real export we have seen (1C's counterparty report with every
# contact field) has ~150; the mapping page shows one choice per column, and 500 is still a page
# that renders in well under a second. A 10 MB csv can have a million. (The page posts one field
# per column: Django's DATA_UPLOAD_MAX_NUMBER_FIELDS, 1,000, must stay above this plus a few.)
MAX_COLUMNS = 500

# Characters of one csv line (a row; a quoted multi-line cell counts its lines separately). 500
# columns of 2,000 characters each is more than any client list writes; a line past this is a
# file that is not a list (one 9 MB cell, a binary file without newlines), and reading it whole
# would hold it in memory at once.
MAX_LINE_CHARS = 1_000_000

# Characters of one csv cell, for the csv module's field_size_limit (its default, 131,072, is
# raised as an error the reader did not catch). Excel itself stops a cell at 32,767.
MAX_CELL_CHARS = MAX_LINE_CHARS

# A header cell's text, normalised: longer headers are cut (a title sentence above the table can
# be found as the header row). The cut is the same at inspection and import, so mappings match.
MAX_HEADER_CHARS = 200

# A preview cell as shown on the mapping page and stored with the inspection: cut for display.
MAX_PREVIEW_CELL_CHARS = 200

# Sheets of a workbook searched for the first one with data: each is loaded to look. A workbook
# with more sheets still lists them all (names only); the person picks the one to import.
MAX_SHEETS_SEARCHED = 10

# Unpacked size of a sheet's XML above which the first rows are read streamed (openpyxl,
# constant memory) rather than with calamine, which loads the whole sheet to give its first row:
# a 13 MB xlsx of a million short rows took 2.5 s and 570 MB for every view of the mapping page.
# 16 MB of sheet XML is ~100,000 rows of a typical list, loaded in well under a second.
MAX_SHEET_XML_LOADED = 16 * 1024 * 1024

# Sheets listed in the sheet choice. A workbook of a year of daily sheets has 366.
MAX_SHEETS = 1000

# XML: the upload reads the first records for the preview, and counts the records (for the
# progress bar's estimate), from at most this much of the file: ~500 of 1C's counterparties, a
# fraction of a second. The whole file is read by the preview run in the background.
MAX_XML_INSPECTED_BYTES = 1024 * 1024

# Nesting of XML elements. A 1C exchange file nests about 10 deep; libxml2 with huge_tree allows
# 2,048 and keeps every open element (and our path of their names) in memory.
MAX_XML_DEPTH = 100
