"""What a producer run takes from its environment, and its defaults (no imports: the CLI
reads them to build its help without loading an HTTP client)."""

DEFAULT_URL = "https://www.omdbapi.com/"
URL_ENV = "OMDB_API_URL"
KEY_ENV = "OMDB_API_KEY"
DEFAULT_MAX_REQUESTS = 500  # half the free key's 1,000 a day
