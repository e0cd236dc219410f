"""Solutions to the exercises of notebook 06. Each block replaces the cell that starts
`# Exercise N: your answer`."""

# %% Exercise 1
# Row n of X @ W.T holds sample n's weighted sum for each neuron (W has one row per
# neuron); b is added to every row.
Z = X @ W.T + b


# %% Exercise 2
# dW[j, i] = sum over samples n of dZ[n, j] * X[n, i]: the scalar g_w = g_z * x,
# summed over the samples. (4 x 6) @ (6 x 3) gives W's shape, 4 x 3.
dW = dZ.T @ X
