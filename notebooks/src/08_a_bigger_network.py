# %% [markdown]
# # 8. A bigger network
#
# So far the networks had two inputs and one output. This notebook trains one with 64
# inputs and 10 outputs: it reads 8 × 8 pictures of digits and says which digit each
# shows. A network this size has thousands of parameters and each sample a graph of
# thousands of nodes, so it trains compiled (`fit(..., compile=True)`: each layer one
# matrix product over a batch, as notebook 06 derived). Then it looks inside, layer by
# layer, for two ways training goes wrong: dead ReLUs and vanishing gradients.

# %%
# Show the matplotlib figures that cells return.
%matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

from scalargrad import MLP, fit
from scalargrad.data import digits, train_test_split
from scalargrad.losses import cross_entropy
from scalargrad.train import accuracy
from scalargrad.viz import draw_mlp, plot_loss

# %% [markdown]
# ## The data
#
# `digits(n, seed)` draws digits as a digital clock does, from strokes, each shifted by
# up to a pixel and with noise on every pixel: 1,000 pictures, made here (nothing is
# downloaded). Each is 64 numbers in [0, 1], read row by row. A fifth is kept apart to
# test on: a network is judged on pictures it has not trained on.

# %%
X, y = digits(1000, seed=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
print(f"{len(X_train)} training and {len(X_test)} test pictures, {len(X[0])} pixels each")

figure, axes = plt.subplots(2, 10, figsize=(10, 2.3))
for digit in range(10):
    examples = [row for row, label in zip(X_train, y_train) if label == digit][:2]
    for row, example in enumerate(examples):
        axes[row, digit].imshow(np.reshape(example, (8, 8)), cmap="gray_r", vmin=0, vmax=1)
        axes[row, digit].set_axis_off()
    axes[0, digit].set_title(str(digit))
plt.close(figure)
figure

# %% [markdown]
# ## The network, trained compiled
#
# `MLP(64, [32, 10])`: 32 ReLU neurons, each reading all 64 pixels, then 10 outputs, one
# score per digit. With ten outputs `fit` uses the cross-entropy loss: the scores go
# through a softmax, and the loss is −log of the probability given to the right digit.
# Twenty epochs of minibatches of 50, stochastic gradient descent:

# %%
model = MLP(64, [32, 10], seed=0)
print(model)
print(model.num_parameters(), "parameters")
history = fit(
    model, X_train, y_train, compile=True, lr=0.5, epochs=20, batch_size=50, seed=0
)
print(f"training accuracy {accuracy(model, X_train, y_train):.1%}")
print(f"test accuracy     {accuracy(model, X_test, y_test):.1%}")

# %% [markdown]
# Compiled training gives the eager engine's numbers to rounding (its first step is
# checked against it), many times faster. The loss, and the training accuracy, per epoch:

# %%
plot_loss(history)

# %% [markdown]
# ## Looking inside: the gradient, layer by layer
#
# After training, each parameter's `.grad` is that of the last batch. To see what a
# layer is learning from, `draw_mlp(model, color_by="grad")` draws each weight as an
# edge coloured by its gradient (blue positive, red negative, pale near zero) and
# each neuron by its bias's gradient. With 64 inputs the picture is wide; it is drawn
# top to bottom, small.
#
# ### Dead ReLUs
#
# A ReLU neuron outputs max(0, z). If its weighted sum z is negative for every sample,
# it outputs 0 for all of them, its local derivative is 0 for all of them, and no
# gradient ever reaches its weights again: it is dead, and stays so. A learning rate
# too large kills neurons this way in a few steps. The same network trained with
# lr = 3:

# %%
def dead_neurons(net, samples):
    """The hidden neurons of net's first layer whose ReLU is 0 on every sample."""
    W = np.array([[w.data for w in n.w] for n in net.layers[0].neurons])
    b = np.array([n.b.data for n in net.layers[0].neurons])
    Z = np.array(samples) @ W.T + b
    return [j for j in range(len(b)) if (Z[:, j] <= 0).all()]


too_fast = MLP(64, [16, 10], seed=0)
fit(too_fast, X_train, y_train, compile=True, lr=3.0, epochs=5, batch_size=50, progress=False)
dead = dead_neurons(too_fast, X_train)
print(f"lr = 3:   {len(dead)} of 16 hidden neurons dead: {dead}")
print(f"          test accuracy {accuracy(too_fast, X_test, y_test):.1%}")
print(f"lr = 0.5: {len(dead_neurons(model, X_train))} of 32 dead (the network above)")

# %% [markdown]
# In the picture the dead neurons are the white boxes with "grad 0", and every edge
# into them is pale grey, since their weights get no gradient. The living ones are
# coloured.

# %%
picture = draw_mlp(too_fast, color_by="grad", rankdir="TB", format="png")
picture.digraph.attr(dpi="40")
picture

# %% [markdown]
# The same gradients as a matrix, one row per hidden neuron and one column per pixel:
# the gradient of the first layer's weights on the last batch, `dW1` of notebook 06.
# A dead neuron's row is blank. (A living neuron's row can be blank too, when its
# ReLU happened to be 0 on every sample of that one batch.)

# %%
dW1 = np.array([[w.grad for w in n.w] for n in too_fast.layers[0].neurons])
limit = np.abs(dW1).max()
figure, axis = plt.subplots(figsize=(9, 2.6))
axis.imshow(dW1, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
axis.set_yticks(range(16), [f"N{j}" + (" dead" if j in dead else "") for j in range(16)], fontsize=7)
axis.set_xlabel("weight of pixel 0 ... 63 (blue: positive gradient, red: negative)")
plt.close(figure)
figure

# %% [markdown]
# ### Vanishing gradients
#
# Backward, each layer multiplies the gradient by its activation's local derivative.
# A sigmoid's is at most 0.25, so through several sigmoid layers the gradient shrinks
# layer after layer, and the first layers, far from the loss, barely learn. A ReLU's
# is 1 where it is active. Two deep networks, five layers each, at their start: the
# mean size of each layer's weight gradient on one batch of 50 samples:

# %%
def gradient_sizes(net, samples, labels):
    """The mean |gradient| of each layer's weights, for the cross-entropy on samples."""
    net.zero_grad()
    cross_entropy([net(x) for x in samples], labels).backward()
    return [np.mean([abs(w.grad) for n in layer.neurons for w in n.w]) for layer in net.layers]


sizes = {}
for activation in ("sigmoid", "relu"):
    deep = MLP(64, [16, 16, 16, 16, 10], activation=activation, seed=0)
    sizes[activation] = gradient_sizes(deep, X_train[:50], y_train[:50])
    print(f"{activation:8}", "  ".join(f"L{i}: {g:.1e}" for i, g in enumerate(sizes[activation])))

figure, axis = plt.subplots(figsize=(6, 3))
for activation, marker in (("sigmoid", "o"), ("relu", "s")):
    axis.semilogy(range(5), sizes[activation], marker=marker, label=activation)
axis.set_xticks(range(5), [f"L{i}" for i in range(5)])
axis.set_xlabel("layer (L0 reads the pixels, L4 gives the scores)")
axis.set_ylabel("mean |weight gradient|")
axis.legend()
plt.close(figure)
figure

# %% [markdown]
# The sigmoid network's gradient shrinks by a factor of two to four per layer going
# back from the loss: its first layer's is some sixty times smaller than its last's, so
# with one learning rate for all, the first layer barely moves.
# The ReLU network's stays within a small factor. That is why deep networks use ReLUs
# (and careful initialisation). But first, your turn.

# %% [markdown]
# ## Your turn
#
# Two exercises. Write your answer in place of each `...`, run the cell, then run the
# check below it: it says "Right" or what is wrong, with both numbers. The solutions
# are in `notebooks/solutions/08_a_bigger_network.py`; try first.

# %%
import numpy as np

from scalargrad import MLP, fit
from scalargrad.data import digits
from scalargrad.exercises import check_number

# %% [markdown]
# ### Exercise 1: count the parameters
#
# How many parameters has `MLP(64, [32, 10])`, the network trained above? Work it out
# from the layer sizes (a number, not `model.num_parameters()`).

# %%
# Exercise 1: your answer
parameter_count = ...

# %%
# Exercise 1: check
truth = MLP(64, [32, 10]).num_parameters()
check_number(parameter_count, truth, "the parameters of MLP(64, [32, 10])", rel_tol=0)

# %% [markdown]
# ### Exercise 2: count the dead ReLUs
#
# A network of 24 hidden ReLUs, trained with too large a learning rate (lr = 2.5).
# Count the neurons of its hidden layer (`killed.layers[0].neurons`) that output 0 for
# **every** one of the 400 samples `X`. Each neuron is a function: `neuron(x).data` is
# its output for sample `x`.

# %%
X, y = digits(400, seed=1)
killed = MLP(64, [24, 10], seed=1)
fit(killed, X, y, compile=True, lr=2.5, epochs=4, batch_size=50, progress=False)
hidden = np.maximum(
    np.array(X) @ np.array([[w.data for w in n.w] for n in killed.layers[0].neurons]).T
    + np.array([n.b.data for n in killed.layers[0].neurons]),
    0.0,
)

# %%
# Exercise 2: your answer
dead_count = ...

# %%
# Exercise 2: check
check_number(dead_count, int((hidden.max(axis=0) == 0).sum()), "the dead ReLUs", rel_tol=0)
