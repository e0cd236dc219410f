"""Solutions to the exercises of notebook 02. Each block replaces the cell that starts
`# Exercise N: your answer`."""

# %% Exercise 1
# d(a·b)/da = b and d(a·b)/db = a; += so that mul(a, a) gets both shares.
def mul(a, b):
    out = Value(a.data * b.data, (a, b), "*")

    def _backward():
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    out._backward = _backward
    return out


# %% Exercise 2
# sigmoid' > 0; d(a·b + a)/da = b + 1 = −1 < 0 (both paths), d/db = a = 1 > 0.
predicted = {"a": "-", "b": "+"}
