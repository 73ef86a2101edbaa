"""GraphQL for segments: dynamic and static customer groups."""
