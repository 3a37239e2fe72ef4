"""Input and output plumbing: safe documents, atomic files, shipped resources."""
