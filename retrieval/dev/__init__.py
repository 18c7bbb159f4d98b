"""Developer tools, not used at run time: fitting the confidence model."""
