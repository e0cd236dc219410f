"""Solutions to the exercises of notebook 05. Each block replaces the cell that starts
`# Exercise N: your answer`."""

# %% Exercise 1
# d(x^y)/dx = y·x^(y−1); d(x^y)/dy = x^y·ln x.
def power(x, y):
    out = Value(x.data**y.data, (x, y), "**")

    def _backward():
        x.grad += y.data * x.data ** (y.data - 1) * out.grad
        y.grad += out.data * math.log(x.data) * out.grad

    out._backward = _backward
    return out


# %% Exercise 2
# d/dx (1 − tanh²) = −2·tanh·tanh′ = −2·tanh(x)·(1 − tanh(x)²).
def tanh_second_derivative(x):
    t = math.tanh(x)
    return -2 * t * (1 - t**2)
