"""Serving the IBU model with BentoML: request schemas, the model store, the service, its process."""
