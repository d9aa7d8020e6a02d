"""Document-intelligence example of flowlite: a PDF pipeline run by one shared plan."""
