"""Data providers for tests: products and orbit files on the S3 API server, as eodag finds them."""
