"""GraphQL for consent, contact preferences and feedback."""
