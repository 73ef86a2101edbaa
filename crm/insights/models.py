"""Tables of crm.insights."""
