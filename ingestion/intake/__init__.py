"""The intake: inbox to registry, raw and audit: read, validate, pseudonymise, load, feed back."""
