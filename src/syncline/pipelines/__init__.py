"""The six normalized record schemas (API.md section 8), as data: what every connector of a
pipeline emits, what the records endpoint documents, and what the tests hold each record to."""

from syncline.pipelines.schemas import (
    PIPELINES,
    CompanyRecord,
    ContactRecord,
    CustomObjectRecord,
    DealRecord,
    FileRecord,
    TicketRecord,
    published_schema,
    validate_record,
)

__all__ = [
    "PIPELINES",
    "CompanyRecord",
    "ContactRecord",
    "CustomObjectRecord",
    "DealRecord",
    "FileRecord",
    "TicketRecord",
    "published_schema",
    "validate_record",
]
