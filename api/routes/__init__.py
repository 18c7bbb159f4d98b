"""Thin route modules: validate, call the services, store, answer."""
