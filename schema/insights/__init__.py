"""GraphQL for insights: the firm's customer intelligence."""
