# %% [markdown]
# # 4. A moons classifier
#
# The project's standard workload: two interleaving half-moons, 100 points, and an MLP
# with two hidden layers of 16 relu neurons that learns to tell them apart. Then the
# same network trained by four optimizers, compared on one plot. The first cell imports
# what the notebook uses.

# %%
# Show the matplotlib figures that cells return.
%matplotlib inline
import matplotlib.pyplot as plt

from scalargrad import losses
from scalargrad.data import moons
from scalargrad.nn import MLP
from scalargrad.optim import SGD, Adam, RMSprop, linear
from scalargrad.train import accuracy, fit
from scalargrad.viz import plot_dataset, plot_decision_boundary, plot_loss

# %% [markdown]
# ## The data
#
# `moons(100, noise=0.1)` gives 50 points on each arc, jittered by Gaussian noise, in
# a fixed shuffled order (`seed=0`). No straight line separates the classes.

# %%
X, y = moons(100, noise=0.1, seed=0)
print(f"{len(X)} samples, first three: {[[round(v, 3) for v in x] for x in X[:3]]}, labels {y[:3]}")
plot_dataset(X, y, title="moons(100, noise=0.1)")

# %% [markdown]
# ## The model and its loss
#
# `MLP(2, [16, 16, 1])`: relu hidden layers, one linear output, the score. A score > 0
# means class 1. The loss is the hinge loss, the mean of relu(1 − t·score) with t = +1
# for class 1 and −1 for class 0, plus 1e-4 · Σ p² over all parameters to keep the
# weights small. Here is that loss for the untrained model, computed with the functions
# from `scalargrad.losses` that `fit` uses.

# %%
model = MLP(2, [16, 16, 1], seed=0)
print(model)
print(model.num_parameters(), "parameters")

scores = [model(x) for x in X]
loss = losses.hinge(scores, y) + losses.l2_penalty(model.parameters(), 1e-4)
print(f"loss before training: {loss.data:.4f}   accuracy {accuracy(model, X, y):.0%}")

# %% [markdown]
# ## Training
#
# Full-batch SGD for 100 steps, the learning rate falling in a straight line from 1.0 to
# 0.1. Each step computes all 100 samples' scores and their gradients and moves the
# parameters; the progress bar shows the loss and accuracy as it goes.
#
# `compile=True` traces one sample's graph once and runs every step as matrix products
# over the batch (notebook 06 shows the code it writes): the same numbers as building
# the graph of every sample and calling `backward()`, a hundred times faster. Take it
# out to watch the eager engine do the same work in a few seconds.

# %%
history = fit(
    model,
    X,
    y,
    loss="hinge",
    l2=1e-4,
    optimizer="sgd",
    lr=linear(1.0, 0.1, steps=100),
    epochs=100,
    compile=True,
)
print(f"final loss {history.loss[-1]:.4f}   training accuracy {accuracy(model, X, y):.0%}")

# %% [markdown]
# The loss curve. Look at step 3: at a learning rate near 1.0 the loss jumps to 2.5
# before it falls. The accuracy is measured on each step's batch before its update.

# %%
plot_loss(history)

# %% [markdown]
# The decision boundary: the model's class over the whole plane, with the data on top.
# The black line is where the score is 0. Look at how it bends between the two arcs.

# %%
plot_decision_boundary(model, X, y, resolution=50)

# %% [markdown]
# ## Four optimizers
#
# A smaller network, `MLP(2, [8, 8, 1])`, so that four runs take seconds, not half a
# minute: each from the same starting weights (`seed=0`), with the same loss, for 40
# full-batch steps, four ways to move the parameters:
#
# - **SGD**: step = learning rate × gradient, with the schedule above.
# - **Momentum**: SGD that follows a running sum of past gradients (momentum 0.9).
# - **RMSprop**: each parameter's step divided by the root of a running mean of its squared gradients.
# - **Adam**: momentum and RMSprop's scaling together, with a correction for the first steps.
#
# Learning rates mean different things to different optimizers, so each has its own,
# picked from a few tries. Read the comparison as "what each does here", not as a ranking.

# %%
optimizers = {
    "SGD, lr 1.0 → 0.1": lambda params: SGD(params, lr=linear(1.0, 0.1, steps=40)),
    "Momentum 0.9, lr 0.1": lambda params: SGD(params, lr=0.1, momentum=0.9),
    "RMSprop, lr 0.01": lambda params: RMSprop(params, lr=0.01),
    "Adam, lr 0.03": lambda params: Adam(params, lr=0.03),
}

histories = {}
for name, make_optimizer in optimizers.items():
    net = MLP(2, [8, 8, 1], seed=0)
    histories[name] = fit(
        net,
        X,
        y,
        loss="hinge",
        l2=1e-4,
        optimizer=make_optimizer(net.parameters()),
        epochs=40,
        compile=True,
    )
    print(f"{name:22s} final loss {histories[name].loss[-1]:.4f}   accuracy {accuracy(net, X, y):.0%}")

# %% [markdown]
# The four loss curves on one plot, on a log scale so the late steps are visible. Look
# at the first five steps, where SGD and RMSprop fall faster than momentum and Adam; at
# RMSprop, whose curve stays jagged; and at step 40, where RMSprop is lowest, SGD and
# Adam end close together, and momentum is highest.

# %%
fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
for name, run in histories.items():
    ax.plot(range(1, len(run.loss) + 1), run.loss, label=name)
ax.set(yscale="log", xlabel="step", ylabel="loss (hinge + L2)", title="moons: four optimizers")
ax.grid(alpha=0.3, which="both")
ax.legend()
plt.show()

# %% [markdown]
# ## Your turn
#
# Two exercises. Write your answer in place of each `...`, run the cell, then run the
# check below it: it says "Right" or what is wrong, with the input and both numbers.
# The solutions are in `notebooks/solutions/04_moons_classifier.py`; try first.

# %%
from scalargrad import Value, losses
from scalargrad.data import moons
from scalargrad.exercises import check_learning_rate, check_signs
from scalargrad.nn import MLP
from scalargrad.train import fit

# %% [markdown]
# ### Exercise 1: which way does the hinge loss push each score?
#
# The hinge loss is the mean of relu(1 − t·score), with t = +1 for class 1 and −1 for
# class 0. For the four samples below, predict the sign of d(loss)/d(score): `"-"`
# means training will raise that score, `"+"` lower it, `"0"` leave it alone.

# %%
samples = {"A": (0.3, 1), "B": (0.3, 0), "C": (2.0, 1), "D": (-0.5, 0)}  # (score, class)
scores = {name: Value(score, label=name) for name, (score, _) in samples.items()}
loss = losses.hinge(list(scores.values()), [label for _, label in samples.values()])
print(f"loss = {loss.data:.4f}")

# %%
# Exercise 1: your answer
predicted = {"A": ..., "B": ..., "C": ..., "D": ...}

# %%
# Exercise 1: check
loss.backward()
check_signs(predicted, scores)

# %% [markdown]
# ### Exercise 2: pick a learning rate
#
# A small network, `MLP(2, [8, 1])`, on 60 moons points, trained by plain SGD on the
# hinge loss for 30 full-batch steps. Pick a learning rate that brings the loss below
# 0.35 in those 30 steps.

# %%
X_small, y_small = moons(60, noise=0.1, seed=1)


def losses_for(lr):
    """The loss of each of 30 SGD steps with learning rate lr, from the same start."""
    model = MLP(2, [8, 1], seed=0)
    history = fit(model, X_small, y_small, loss="hinge", lr=lr, epochs=30, progress=False)
    return history.loss

# %%
# Exercise 2: your answer
learning_rate = ...

# %%
# Exercise 2: check
check_learning_rate(learning_rate, losses_for, below=0.35)
