"""Developer tools, not used at run time: rebuilding the bundled sample, surveying a package."""
