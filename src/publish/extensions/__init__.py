"""WeasyPrint 70 extensions, active only inside their `active()` blocks: clreq line layout, scale,
PDF/UA tags, footnotes."""
