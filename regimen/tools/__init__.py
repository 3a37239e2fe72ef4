"""Knowledge tools: lint, witness profiles, source coverage, evidence summaries."""
