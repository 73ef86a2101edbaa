"""Tables of crm.exports."""
