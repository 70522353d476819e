"""Documents: legal notices rendered from templates HR's lawyer can edit, numbered, hashed, immutable."""
