"""Reading and writing data: the packaged real datasets, user files, exports, splits."""
