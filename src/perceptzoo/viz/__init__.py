"""Pictures of results: image grids, scatter plots, curves, rollouts and turntables."""
