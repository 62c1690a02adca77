"""Storage: the database, its schema and migrations, and writing captures, runs and speeches."""
