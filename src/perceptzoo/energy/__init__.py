"""Energy-based and Markov-chain models: restricted Boltzmann machines, GSNs."""
