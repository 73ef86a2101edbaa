"""Tables of crm.consent."""
