"""Solutions to the exercises of notebook 04. Each block replaces the cell that starts
`# Exercise N: your answer`."""

# %% Exercise 1
# d relu(1 − t·s)/ds = −t where 1 − t·s > 0, else 0 (then divided by the 4 samples):
# A: t = +1, margin 0.7 > 0 → −; B: t = −1, 1.3 > 0 → +; C: t = +1, 1 − 2 < 0 → 0;
# D: t = −1, 1 − 0.5 > 0 → +.
predicted = {"A": "-", "B": "+", "C": "0", "D": "+"}


# %% Exercise 2
# From about 0.1 to 3 the loss ends below 0.35; 0.03 is too slow, 10 overshoots.
learning_rate = 0.3
