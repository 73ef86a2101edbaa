"""The customer's own view: what a signed-in customer may read about themselves."""
