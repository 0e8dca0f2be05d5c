"""Topic classification: the code book, the topic model (an estimator over hashed n-grams and word vectors) and
assigning topics to statements and claims on the `process` path."""
