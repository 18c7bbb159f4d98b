"""Generation: sourced reply drafts and their citation checks."""
