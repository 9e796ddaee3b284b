"""The "was your problem solved?" page linked from the resolution mail."""
