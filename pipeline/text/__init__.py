"""Text before linguistics: sentence and paragraph segmentation, boilerplate, language identification."""
