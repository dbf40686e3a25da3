"""A sampler, a policy and an executor defined outside the package: proof that each is one module."""
