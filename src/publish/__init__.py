"""Publish Chinese books: one manuscript in, print PDF and EPUB out, in Simplified and Traditional."""
