"""The pipeline's stages, one module each: manuscript → edition → typeset → layouts → PDF / EPUB (and the
ONIX record and print order measured on them)."""
