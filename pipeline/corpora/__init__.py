"""Building the project's annotated corpora (claims, topics) from their labels and the texts of ../shared/data: selection, joining, adjudication, statistics."""
