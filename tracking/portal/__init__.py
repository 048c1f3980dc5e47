"""Portal pages for conversions: lists with their trace, review, integration, fraud queue, reports."""
