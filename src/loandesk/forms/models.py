"""Form engine tables."""
