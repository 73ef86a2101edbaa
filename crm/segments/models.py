"""Tables of crm.segments."""
