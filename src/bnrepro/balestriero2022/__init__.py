"""Balestriero & Baraniuk (2022), "Batch Normalization Explained": BN adapts a
deep network's spline partition to the data.

The networks (MLPs whose normalization can be switched, batched over independent
models) and their mini-batch SGD are `bnrepro.nets`; class-balanced image subsets
are `bnrepro.data.subsets`. This paper's own modules:

- `datasets`: seeded moons and digits;
- `initialization`: protocol C3, the five initializations ("smart init");
- `partition`: the geometry of the spline partition: total-least-squares
  offsets, data-to-boundary distances, activation-pattern images;
- `margins`: mini-batch jitter of the hyperplanes (its exact law), signed
  data-to-decision-boundary margins on a grid, and flips under mini-batch statistics;
- `noise`: the minibatch-margin arms (BN, population statistics with and without their gradient);
- `early_learning`: smart initialization measured on the early learning curve;
- `affine_arms`: learnable, fixed and positive-control gamma, beta, trained side by side;
- `offsets`: the data-aware control of partition-adaptation.
"""
