"""The certification checklist handed over with the signed licence verification: its model
(``model``) and one writer per format (``markdown``, ``xlsx``, ``pdf``; the PDF writer, which
loads fonts, is imported where it is used)."""

from coa_audit.exporters.checklist.markdown import write_md
from coa_audit.exporters.checklist.model import (
    HEADER_FIELDS,
    PROFILE_FIELDS,
    SIGNATURE_FIELDS,
    STATEMENT,
    Checklist,
    build_checklist,
    check_header,
    licences_warning,
    packet_size_warning,
    printed_header,
    review_warnings,
)
from coa_audit.exporters.checklist.xlsx import write_xlsx

__all__ = [
    "HEADER_FIELDS",
    "PROFILE_FIELDS",
    "SIGNATURE_FIELDS",
    "STATEMENT",
    "Checklist",
    "build_checklist",
    "check_header",
    "licences_warning",
    "packet_size_warning",
    "printed_header",
    "review_warnings",
    "write_md",
    "write_xlsx",
]
