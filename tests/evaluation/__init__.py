"""The self-rating: the question bank, the scoring, the evaluation endpoints, saved records and their export."""
