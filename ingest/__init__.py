"""Loading, cleaning, chunking and indexing documents into the knowledge base."""
