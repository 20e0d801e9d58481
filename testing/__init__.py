"""What the tests and the benchmark both use, owned by neither: a throwaway
PostgreSQL server, and the app served by gunicorn as its image serves it."""
