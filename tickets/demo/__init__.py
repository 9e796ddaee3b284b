"""Demo data for `seed_demo`: the vocabulary it draws from and the bulk writer it uses."""
