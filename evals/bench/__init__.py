"""Performance benchmarks (`guichet bench …`): each measures guichet and a baseline
in the same run, prints a table with pass/fail against the targets, or one JSON
object with flat keys (`--json`)."""
