"""Reading a namespace's logs over HTTP: pages newest first, filters, time seek, follow, NDJSON download."""
