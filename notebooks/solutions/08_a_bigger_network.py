"""Solutions to the exercises of notebook 08. Each block replaces the cell that starts
`# Exercise N: your answer`."""

# %% Exercise 1
# Each neuron has a weight per input and one bias: 32 * (64 + 1) in the hidden layer,
# 10 * (32 + 1) in the output layer.
parameter_count = 32 * (64 + 1) + 10 * (32 + 1)


# %% Exercise 2
# Dead: the neuron's output is 0 (its weighted sum <= 0) for every sample.
dead_count = sum(
    1 for neuron in killed.layers[0].neurons if all(neuron(x).data == 0 for x in X)
)
