"""GraphQL for customer data exports."""
