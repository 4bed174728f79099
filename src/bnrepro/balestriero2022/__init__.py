"""Balestriero & Baraniuk (2022), "Batch Normalization Explained": BN adapts a
deep network's spline partition to the data.

- `network`: MLPs whose normalization can be switched (batch statistics,
  supplied population statistics, folded statistics, none), batched over
  independent models, shared by every claim.
- `training`: batched mini-batch SGD over the model axis;
- `datasets`: seeded moons, digits and image subsets;
- `initialization`: protocol C3, the five initializations ("smart init");
- `partition`: the geometry of the spline partition: total-least-squares
  offsets, data-to-boundary distances, activation-pattern images;
- `margins`: mini-batch jitter of the hyperplanes (its exact law) and
  signed data-to-decision-boundary margins on a grid.
"""
