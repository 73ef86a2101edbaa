"""Tables of crm.erasure."""
