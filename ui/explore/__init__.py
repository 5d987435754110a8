"""The explorer page's helpers: `state` (input, layer, cell, the link), `view` (its sections),
`explain` (what the selected layer does, cell by cell)."""
