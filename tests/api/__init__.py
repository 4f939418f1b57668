"""The contract as a whole: the envelope on every path, the framework's own errors, health, the OpenAPI document."""
