"""Files for people outside the system: the payout file for the bank, publisher statements and
advertiser invoices, as CSV and PDF. Each export module builds a plain data object first
(the JSON API renders the same object), then writes it."""
