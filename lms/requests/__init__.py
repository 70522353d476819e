"""Employee self-service (issue #17): leave and trip requests, emergency reports, punch corrections,
my details and the confirmed service address, and the manager's inbox — one place for every request kind."""
