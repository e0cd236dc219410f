# %% [markdown]
# # 6. From scalars to matrices
#
# "Neural network from scratch" projects write backprop with NumPy matrices:
# `Z1 = X @ W1.T + b1` forward, `dW1 = dZ1.T @ X` backward. This notebook derives
# those formulas from the scalar engine: it traces one neuron with
# `scalargrad.compile`, reads the code the compiler writes for it, runs that code over
# a batch of samples, and ends with a two-layer network written by hand in NumPy whose
# every gradient is checked against `backward()`.

# %%
import numpy as np

import scalargrad
from scalargrad import Value
from scalargrad.engine import sum as value_sum
from scalargrad.nn import MLP, Neuron

# %% [markdown]
# ## One neuron, traced
#
# `compile(f, example_inputs, parameters)` calls `f` once on Values, records the graph
# it builds, and writes the forward and backward passes out as Python. The neuron has
# three inputs, weights w0, w1, w2 and a bias b, and a tanh.

# %%
neuron = Neuron(3, "tanh", seed=0)
for w, value in zip(neuron.w, (0.5, -0.4, 0.3)):
    w.data = value
neuron.b.data = 0.1


def neuron_output(x0, x1, x2):
    return neuron([x0, x1, x2])


f = scalargrad.compile(neuron_output, [1.0, -2.0, 0.5], neuron.parameters())
print(f.source)

# %% [markdown]
# Read it as the graph, one line per node. Forward: `h1` is the weighted sum, `o` its
# tanh. Backward: `g_o = 1.0` seeds the chain rule; `g_h1` is tanh's local derivative
# 1 − o² times `g_o`; then the sum hands `g_h1` to each of its inputs, multiplied by
# the other factor of its product: `g_w0 = g_h1 * x0`, `g_x0 = g_h1 * w0`. That line,
# a weight's gradient is the gradient of the sum times the input, is the whole of
# `dW = dZ.T @ X` below, one sample at a time.
#
# Called with numbers, the compiled function returns the output and both sets of
# gradients. They are the eager engine's:

# %%
result = f(1.0, -2.0, 0.5)
xs = [Value(1.0), Value(-2.0), Value(0.5)]
neuron.zero_grad()
out = neuron(xs)
out.backward()
print("compiled  ", round(result.output, 12), [round(g, 12) for g in result.parameter_grads])
print("backward()", round(out.data, 12), [round(p.grad, 12) for p in neuron.parameters()])

# %% [markdown]
# ## The same code over a batch
#
# A data set is many samples. `f.batch(X)` runs the traced graph on every row of `X` at
# once with NumPy: each scalar of the graph becomes a column with one entry per
# sample. It returns the outputs per row and the parameter gradients **summed** over
# the rows, as `backward()` on the sum of the outputs would. Checked against a loop of
# the eager engine over the five rows:

# %%
X = np.array(
    [[1.0, -2.0, 0.5], [0.0, 1.0, 2.0], [-1.0, 0.5, 0.0], [2.0, 1.0, -1.0], [0.3, -0.7, 1.5]]
)
batch = f.batch(X)

neuron.zero_grad()
eager_outputs = [neuron([Value(x) for x in row]) for row in X.tolist()]
value_sum(eager_outputs).backward()
eager_grads = np.array([p.grad for p in neuron.parameters()])

print("outputs, batch:", np.round(batch.outputs, 6))
print("outputs, eager:", np.round([o.data for o in eager_outputs], 6))
print("summed gradients, batch:", np.round(batch.parameter_grads, 6))
print("summed gradients, eager:", np.round(eager_grads, 6))
print("largest difference:", np.abs(batch.parameter_grads - eager_grads).max())

# %% [markdown]
# ## The batch code is the matrix formulas
#
# `f.numpy_source` is the NumPy code `batch` runs. The three weights are a 1 × 3
# matrix `W1`, the bias `b1`, the five samples the rows of `X` (5 × 3):

# %%
print(f.numpy_source)

# %% [markdown]
# Forward, `Z1 = X @ W1.T + b1`: row n of `X @ W1.T` is w0·x0 + w1·x1 + w2·x2 for
# sample n, the `h1` line above done for every sample at once; `A1 = np.tanh(Z1)`.
#
# Backward, `dZ1 = dA1 * (1.0 - A1 * A1)`: tanh's local derivative, entry by entry.
# Then `dW1 += dZ1.T @ X`: entry i of `dZ1.T @ X` is Σₙ dZ1[n] · X[n, i], the
# scalar line `g_w_i = g_h1 * x_i` summed over the samples, since a weight is shared by
# every sample and gets the sum of its paths. `db1 += ones @ dZ1` is the same for
# the bias, whose "input" is 1 for every sample: it is `dZ1.sum(axis=0)`, written as a
# product, as a weight's line is. `dX = dZ1 @ W1` gives each sample its input
# gradients. `W1` and `b1` are views of `theta`, the one array of all parameters, and
# `dW1` and `db1` views of `grad`, the one array of all gradients: `+=` adds into it.
#
# A layer of several neurons makes `W1` one row per neuron, and the same lines hold.
# The compiler writes them for a two-layer MLP (3 inputs, 4 ReLUs, 1 output):

# %%
model = MLP(3, [4, 1], seed=0)
g = scalargrad.compile(lambda x0, x1, x2: model([x0, x1, x2]), [0.0, 0.0, 0.0], model.parameters())
print(g.numpy_source)

# %% [markdown]
# `np.sign(A1)` is ReLU's local derivative, 1 where the neuron let its input through
# (A1 > 0) and 0 elsewhere: the op table's step(Z1), read off the ReLU's output. And
# `dA1 = dZ2 @ W2` hands each hidden neuron the output's gradient times its weight.
#
# ## Written by hand, checked against the engine
#
# Now the from-scratch version: the same MLP, its weights copied into matrices, trained
# on a mean squared error L = (1/N) Σₙ (z₂ₙ − tₙ)². Its gradient at the output is
# dL/dZ2 = 2 (Z2 − T) / N, and the rest is the lines above. Every gradient is then
# compared with `backward()` on the same loss built from Values.

# %%
W1 = np.array([[w.data for w in n.w] for n in model.layers[0].neurons])  # 4 x 3
b1 = np.array([n.b.data for n in model.layers[0].neurons])  # 4
W2 = np.array([[w.data for w in n.w] for n in model.layers[1].neurons])  # 1 x 4
b2 = np.array([n.b.data for n in model.layers[1].neurons])  # 1
T = np.array([[1.0], [-1.0], [0.5], [0.0], [2.0]])  # a target per sample
N = len(X)

# forward
Z1 = X @ W1.T + b1
A1 = np.maximum(Z1, 0.0)
Z2 = A1 @ W2.T + b2
loss = ((Z2 - T) ** 2).mean()
# backward
dZ2 = 2 * (Z2 - T) / N
dW2 = dZ2.T @ A1
db2 = dZ2.sum(axis=0)
dA1 = dZ2 @ W2
dZ1 = dA1 * (Z1 > 0)
dW1 = dZ1.T @ X
db1 = dZ1.sum(axis=0)

# the engine, sample by sample
model.zero_grad()
value_loss = sum((model(row) - t) ** 2 for row, t in zip(X.tolist(), T[:, 0])) * (1 / N)
value_loss.backward()


def grads(layer):
    """The engine's gradients of one layer, as (weights matrix, bias vector)."""
    weights = np.array([[w.grad for w in n.w] for n in layer.neurons])
    return weights, np.array([n.b.grad for n in layer.neurons])


eW1, eb1 = grads(model.layers[0])
eW2, eb2 = grads(model.layers[1])
print(f"loss: NumPy {loss:.12f}, engine {value_loss.data:.12f}")
for name, mine, engine in [("dW1", dW1, eW1), ("db1", db1, eb1), ("dW2", dW2, eW2), ("db2", db2, eb2)]:
    difference = np.abs(mine - engine).max()
    print(f"{name} {str(mine.shape):7}  largest difference from backward(): {difference:.1e}")

# %% [markdown]
# The same numbers to rounding: the matrix formulas are the scalar chain rule, run on
# every sample at once and summed where samples share a parameter. `fit(...,
# compile=True)` trains this way (notebook 08). But first, your turn.

# %% [markdown]
# ## Your turn
#
# Two exercises. Write your answer in place of each `...`, run the cell, then run the
# check below it: it says "Right" or what is wrong, with the shape or the entry and
# both numbers. The solutions are in
# `notebooks/solutions/06_from_scalars_to_matrices.py`; try first.
#
# A linear layer of four neurons on three inputs, and six samples. `W` holds one row
# per neuron, `b` the biases.

# %%
import numpy as np

from scalargrad.engine import sum as value_sum
from scalargrad.exercises import check_array
from scalargrad.nn import Layer

layer = Layer(3, 4, "linear", seed=1)
for neuron, bias in zip(layer.neurons, (0.5, -0.25, 1.0, 0.1)):
    neuron.b.data = bias  # biases start at 0; these make them count
W = np.array([[w.data for w in n.w] for n in layer.neurons])  # 4 x 3
b = np.array([n.b.data for n in layer.neurons])  # 4
X = np.array(
    [[1.0, 0.0, -1.0], [0.5, 2.0, 0.0], [-1.5, 1.0, 1.0], [0.0, 0.0, 3.0], [2.0, -1.0, 0.5],
     [1.0, 1.0, 1.0]]
)  # fmt: skip
engine_Z = np.array([[z.data for z in layer(row)] for row in X.tolist()])

# %% [markdown]
# ### Exercise 1: the layer's forward pass as one matrix product
#
# Write `Z`, one row per sample and one column per neuron: each entry the neuron's
# weighted sum of the sample's inputs plus its bias.

# %%
# Exercise 1: your answer
Z = ...

# %%
# Exercise 1: check
check_array(Z, engine_Z, "Z")

# %% [markdown]
# ### Exercise 2: the weights' gradient
#
# Take the loss L = ½ Σ Z², over every entry. Then dL/dZ = Z, given below as `dZ`.
# Write `dW`, the gradient of L with respect to `W`, the same shape as `W`: each
# weight's gradient summed over the six samples. (Hint: which shape must it have?)

# %%
dZ = engine_Z
layer.zero_grad()
value_sum([z * z * 0.5 for row in X.tolist() for z in layer(row)]).backward()
engine_dW = np.array([[w.grad for w in n.w] for n in layer.neurons])

# %%
# Exercise 2: your answer
dW = ...

# %%
# Exercise 2: check
check_array(dW, engine_dW, "dW")
