# %% [markdown]
# # 3. A neuron, a layer, an MLP
#
# A neuron is a weighted sum of its inputs plus a bias, passed through a squashing
# function. This notebook builds one from Values, checks its gradients against PyTorch,
# then stacks neurons into a `Layer` and layers into an `MLP`, and trains a small MLP,
# first with a loop written out in full and then with `fit`. The first cell imports
# what the notebook uses.

# %%
# Show the matplotlib figures that cells return (plot_loss below).
%matplotlib inline
from scalargrad import Value, fit
from scalargrad.data import xor
from scalargrad.nn import MLP, Layer, Neuron
from scalargrad.viz import draw_graph, draw_mlp, plot_loss

# %% [markdown]
# ## A tanh neuron from Values
#
# Two inputs, two weights and a bias: o = tanh(w₀x₀ + w₁x₁ + b), numbered from 0 as
# Python and `scalargrad.nn` number them. With the numbers below the weighted sum is
# −0.7, so o = tanh(−0.7) ≈ −0.604.

# %%
x0, x1 = Value(1.0, label="x0"), Value(-2.0, label="x1")
w0, w1 = Value(0.6, label="w0"), Value(0.9, label="w1")
b = Value(0.5, label="b")
n = x0 * w0 + x1 * w1 + b
n.label = "n"
o = n.tanh()
o.label = "o"
o.backward()

print(f"o = {o.data:.6f}")
for leaf in (x0, x1, w0, w1, b):
    print(f"do/d{leaf.label} = {leaf.grad:+.6f}")

# %% [markdown]
# The graph, with the local derivatives on the edges. Each weight's gradient is
# tanh′(n) = 1 − o² ≈ 0.635 times its input: w₁'s input is negative, so w₁ is the one
# red weight.

# %%
draw_graph(o, local_grads=True, format="png")

# %% [markdown]
# ## The same neuron in PyTorch
#
# PyTorch, in double precision, should give the same gradients to the last few digits.
# If PyTorch is not installed, this cell says so and the notebook carries on.

# %%
try:
    import torch
except ImportError:
    print("PyTorch is not installed; skipping the comparison")
else:
    leaves = {
        v.label: torch.tensor(v.data, dtype=torch.float64, requires_grad=True)
        for v in (x0, x1, w0, w1, b)
    }
    t_o = torch.tanh(leaves["x0"] * leaves["w0"] + leaves["x1"] * leaves["w1"] + leaves["b"])
    t_o.backward()
    print(f"o: scalargrad {o.data:+.12f}   torch {t_o.item():+.12f}")
    for leaf in (x0, x1, w0, w1, b):
        theirs = leaves[leaf.label].grad.item()
        print(
            f"do/d{leaf.label}: scalargrad {leaf.grad:+.12f}   torch {theirs:+.12f}"
            f"   difference {abs(leaf.grad - theirs):.1e}"
        )

# %% [markdown]
# ## `Neuron`
#
# `Neuron(2, "tanh")` holds two weights and a bias as Values, labelled w0, w1 and b (its
# random weights are replaced here by the ones above). Look at its graph: the weighted sum is one `dot` node with
# five parents, not four ops. Fewer nodes make backward faster and pictures readable;
# the gradients are the same.

# %%
neuron = Neuron(2, "tanh", seed=0)
neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.6, 0.9, 0.5
out = neuron([Value(1.0, label="x0"), Value(-2.0, label="x1")])
out.backward()

print(neuron, "parameters:", [p.label for p in neuron.parameters()])
print("do/dw:", [round(w.grad, 6) for w in neuron.w], "  do/db:", round(neuron.b.grad, 6))
draw_graph(out, local_grads=True, format="png")

# %% [markdown]
# ## `Layer`
#
# A layer is several neurons reading the same inputs. `Layer(2, 3, "tanh")` gives three
# outputs per sample, and 3 × (2 weights + 1 bias) = 9 parameters, each named by where it lives.

# %%
layer = Layer(2, 3, "tanh", seed=0)
outputs = layer([1.0, -2.0])
print(layer)
print("outputs:", [round(v.data, 4) for v in outputs])
print(layer.num_parameters(), "parameters:", [name for name, _ in layer.named_parameters()])

# %% [markdown]
# ## `MLP`
#
# An MLP is layers in a row, each feeding the next. `MLP(2, [4, 4, 1], activation="tanh")`
# has two hidden layers of four tanh neurons and one linear output neuron. `draw_mlp`
# draws it as a network: each weight an edge, blue if positive and red if negative,
# thicker when larger.

# %%
model = MLP(2, [4, 4, 1], activation="tanh", seed=0)
print(model)
print(model.num_parameters(), "parameters")
draw_mlp(model, format="png")

# %% [markdown]
# ## Training by hand on four samples
#
# XOR: four points, labelled +1 when exactly one coordinate is 1 and −1 otherwise. No
# straight line separates them, so the hidden layers have work to do. Each step is the
# whole recipe: forward pass, mean squared error, zero the gradients, backward, and move
# every parameter a little against its gradient. Watch the loss fall.

# %%
X, labels = xor()
targets = [1.0 if label == 1 else -1.0 for label in labels]
learning_rate = 0.2

hand_losses = []
for step in range(50):
    scores = [model(x) for x in X]
    loss = sum((score - t) ** 2 for score, t in zip(scores, targets)) * (1 / len(X))
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    hand_losses.append(loss.data)
    if step % 10 == 0 or step == 49:
        print(f"step {step:2d}   loss {loss.data:.4f}")

# %% [markdown]
# The trained model's scores have the right sign for all four samples, and are near ±1.

# %%
for x, t in zip(X, targets):
    print(f"x = {x}   target {t:+.0f}   score {model(x).data:+.3f}")

# %% [markdown]
# The same network after training. Compare it with the picture before training: every
# bias started at 0 (white boxes) and has moved, and the weights have changed too.

# %%
draw_mlp(model, format="png")

# %% [markdown]
# ## The same with `fit`
#
# `fit` runs that loop for you (here: same seed, same loss, same learning rate, 50
# full-batch steps), and returns a `History` of the loss and accuracy per step. The
# losses match the hand loop's to rounding.

# %%
fitted = MLP(2, [4, 4, 1], activation="tanh", seed=0)
history = fit(fitted, X, targets, loss="mse", lr=learning_rate, epochs=50, progress=False)
difference = max(abs(a - b) for a, b in zip(history.loss, hand_losses))
print(f"final loss {history.loss[-1]:.4f}, accuracy {history.accuracy[-1]:.0%}")
print(f"largest difference from the hand loop: {difference:.1e}")

# %% [markdown]
# `plot_loss` draws the history: the loss on the left; on the right, the fraction of the
# four samples whose score has the sign of their target.

# %%
plot_loss(history)

# %% [markdown]
# Next, in `04_moons_classifier`: a bigger network on a hundred points, and four
# optimizers compared. But first, your turn.

# %% [markdown]
# ## Your turn
#
# Two exercises. Write your answer in place of each `...`, run the cell, then run the
# check below it: it says "Right" or what is wrong, with the input and both numbers.
# The solutions are in `notebooks/solutions/03_neuron_layer_mlp.py`; try first.

# %%
import math

from scalargrad import Value, fit
from scalargrad.data import xor
from scalargrad.exercises import check_backward, check_learning_rate
from scalargrad.nn import MLP

# %% [markdown]
# ### Exercise 1: finish tanh's `_backward`
#
# The neuron's squashing function, written the lecture's way. `t` is the output; fill in
# what `x.grad` gets: the local derivative d tanh(x)/dx, written with `t`, times `out.grad`.

# %%
# Exercise 1: your answer
def tanh(x):
    t = math.tanh(x.data)
    out = Value(t, (x,), "tanh")

    def _backward():
        x.grad += ...

    out._backward = _backward
    return out

# %%
# Exercise 1: check
check_backward(tanh, at=[[-1.0], [0.3], [2.0]], reference=lambda x: x.tanh())

# %% [markdown]
# ### Exercise 2: pick a learning rate
#
# The XOR network above, from the same start (`seed=0`), trained for 50 full-batch SGD
# steps on the mean squared error. Pick a learning rate that brings the loss below
# 0.05. Too small and 50 steps are not enough; too large and the steps overshoot.

# %%
X, labels = xor()
targets = [1.0 if label == 1 else -1.0 for label in labels]


def losses_for(lr):
    """The loss of each of 50 steps with learning rate lr, from the same start."""
    model = MLP(2, [4, 4, 1], activation="tanh", seed=0)
    return fit(model, X, targets, loss="mse", lr=lr, epochs=50, progress=False).loss

# %%
# Exercise 2: your answer
learning_rate = ...

# %%
# Exercise 2: check
check_learning_rate(learning_rate, losses_for, below=0.05)
