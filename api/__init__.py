"""API: HTTP service, web page and command line."""
