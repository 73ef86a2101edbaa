"""Tables of crm.access."""
