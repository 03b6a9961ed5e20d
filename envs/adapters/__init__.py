"""Thin shells that expose a `BatchedEnv` through other ecosystems' APIs."""
