"""Solutions to the exercises of notebook 01. Each block replaces the cell that starts
`# Exercise N: your answer`."""

# %% Exercise 1
# sigmoid'(x) = sigmoid(x) · (1 − sigmoid(x)).
def sigmoid_derivative(x):
    s = 1 / (1 + math.exp(-x))
    return s * (1 - s)


# %% Exercise 2
# tanh' > 0, so the signs are those of d(a·b − c): b > 0 for a, a < 0 for b, −1 for c.
# d·2 = −2 < 0, where relu is flat: nothing flows to d.
predicted = {"a": "+", "b": "-", "c": "-", "d": "0"}
