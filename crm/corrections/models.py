"""Tables of crm.corrections."""
