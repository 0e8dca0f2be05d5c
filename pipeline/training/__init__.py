"""Training the language models: the Kazakh Stanza pipeline, the Russian UD adapter, the learned claim
extractor (leave-one-source-out) and topic classifiers."""
