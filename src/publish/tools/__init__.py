"""The editor's tools: publish watch (live preview), publish new (a book folder), publish sheets (proof pictures)."""
