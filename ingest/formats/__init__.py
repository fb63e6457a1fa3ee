"""One loader per file format; each returns an `ingest.document.Document`."""
