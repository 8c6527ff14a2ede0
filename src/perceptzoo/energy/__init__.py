"""Energy-based and Markov-chain models: restricted Boltzmann machines, GSNs.

rbm (Bernoulli-Bernoulli RBM: CD-k, PCD, exact and AIS log Z), gsn (Generative Stochastic
Network: a denoising autoencoder's corrupt/denoise Markov chain).
"""

from perceptzoo.energy import gsn, rbm  # noqa: F401  (each registers its model)
