"""`perceptzoo bench`: recipes as data, run-or-resume under a budget, one leaderboard."""
