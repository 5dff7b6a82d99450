"""Documents from templates: quotes, invoices and contracts rendered to PDF for a deal."""
