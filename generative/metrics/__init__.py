"""Metrics for generative models, each with its paper and formula in its docstring.

Import from the submodules (`from generative.metrics import frechet, prdc`):

- `likelihood`: nats <-> bits/dim, the dequantization bound, KL from NLL, 2-D log Z by quadrature.
- `features`: the feature spaces (a small digits CNN's penultimate layer; 2-D coordinates).
- `frechet`: Fréchet distance between Gaussian fits (FID formula) and its real-data floor.
- `kernel`: unbiased MMD^2 (Gaussian kernel) and KID (cubic polynomial kernel).
- `prdc`: precision/recall (k-NN balls) and density/coverage.
- `modes`: VEEGAN/PacGAN mode coverage on Gaussian-mixture toys.
"""
