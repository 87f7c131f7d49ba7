"""FindMe's state in Redis, one module a concern; `findme.jobs.JobStore` puts them together."""
