"""Reading and writing data: the shared real datasets, user files, exports, splits."""
