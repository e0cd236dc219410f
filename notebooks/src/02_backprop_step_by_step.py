# %% [markdown]
# # 2. Backpropagation, step by step
#
# `backward()` is one loop over the graph. This notebook slows that loop down: the order
# it visits nodes in, the chain rule at each node, and what happens at a Value that
# feeds two ops. Then the same thing as pictures: frame by frame, a slider, an animation.
# The first cell imports what the notebook uses and makes a temporary folder for the
# animation.

# %%
import tempfile
from pathlib import Path

from IPython.display import Image, display

from scalargrad import Value, topological_order
from scalargrad.viz import backward_steps, draw_graph, save_animation, step_slider

# Anything this notebook writes goes here, and nowhere else; the last cell removes it.
scratch = tempfile.TemporaryDirectory(prefix="scalargrad-02-")
workdir = Path(scratch.name)

# %% [markdown]
# ## The expression
#
# L = sigmoid(w·x + b) · x: a tiny neuron whose output is scaled by its own input.
# Note that x is used twice, once inside the neuron and once in the last product.

# %%
x = Value(0.5, label="x")
w = Value(-1.5, label="w")
b = Value(1.0, label="b")
u = w * x
u.label = "u"
v = u + b
v.label = "v"
s = v.sigmoid()
s.label = "s"
L = s * x
L.label = "L"

draw_graph(L, format="png")

# %% [markdown]
# ## Topological order
#
# Before it propagates anything, `backward()` lists the nodes so that each comes after
# all of its parents. Read the list backwards and every node comes before its parents:
# by the time a node is reached, everything it feeds into has already passed its
# gradient down to it.

# %%
order = topological_order(L)
print("forward order: ", " ".join(node.label for node in order))
print("backward order:", " ".join(node.label for node in reversed(order)))

# %% [markdown]
# ## Local derivatives on the edges
#
# Every op knows d(out)/d(in) for each of its inputs the moment it runs; scalargrad stores
# these as `local_grads`, and `local_grads=True` writes them on the edges. For
# u = w·x the edge from w carries x = 0.5 and the edge from x carries w = −1.5.

# %%
draw_graph(L, local_grads=True, format="png")

# %% [markdown]
# ## The chain rule at each node
#
# Here is the whole of backpropagation, written out with a print per edge. Walk the
# nodes in backward order; at each, multiply its gradient by the local derivative on
# each incoming edge and *add* the product to that parent. Watch x: it receives two
# contributions, one per path.

# %%
grads = {node: 0.0 for node in order}
grads[L] = 1.0
for node in reversed(order):
    for parent, local in zip(node.parents, node.local_grads):
        grads[parent] += grads[node] * local
        print(
            f"{node.label} -> {parent.label}:  {grads[node]:+.4f} × {local:+.4f}"
            f" = {grads[node] * local:+.4f}   {parent.label} now holds {grads[parent]:+.4f}"
        )

# %% [markdown]
# `backward()` runs exactly that loop. Its gradients match the ones printed above.

# %%
L.backward()
for node in reversed(order):
    print(f"{node.label}: backward() {node.grad:+.6f}   loop above {grads[node]:+.6f}")

# %% [markdown]
# ## A reused node sums its paths
#
# x reaches L along two paths: directly (L = s·x, worth s = 0.5622) and through the
# neuron (x → u → v → s → L, worth −0.1846). Its gradient is the sum. A finite-difference
# check confirms the sum, and neither path alone.


# %%
def L_at(x):
    """L for a plain number x, with w and b as above."""
    x = Value(x)
    return ((w.data * x + b.data).sigmoid() * x).data


direct = s.data
through_neuron = x.data * s.data * (1 - s.data) * w.data
h = 1e-6
measured = (L_at(x.data + h) - L_at(x.data - h)) / (2 * h)
print(f"direct path      {direct:+.6f}")
print(f"through neuron   {through_neuron:+.6f}")
print(f"sum              {direct + through_neuron:+.6f}")
print(f"x.grad           {x.grad:+.6f}")
print(f"finite diff.     {measured:+.6f}")

# %% [markdown]
# Because gradients add up, a second `backward()` adds a second time. The interior
# nodes are reset first, but the leaves (x, w, b) accumulate, as in PyTorch. That is
# why a training loop sets the parameters' gradients to zero before each backward.

# %%
L.backward()
print(
    f"after two backward() calls: x.grad = {x.grad:+.6f} (twice {x.grad / 2:+.6f}), "
    f"s.grad = {s.grad:+.6f} (unchanged)"
)
for leaf in (x, w, b):
    leaf.grad = 0.0

# %% [markdown]
# ## Frame by frame
#
# `backward_steps` yields one picture per node in backward order, drawn from a copy of the
# gradients so `.grad` is left alone. Grey boxes with "?" have not been reached yet; the
# orange box is the node that just got its gradient, and the orange edges are the ones
# it arrived along. Here are four of the eight frames: the start, L, v, and x last of
# all, once both of its paths have reported.

# %%
frames = list(backward_steps(L, local_grads=True, format="png"))
print(f"{len(frames)} frames")
for index in (0, 1, 3, 7):
    display(frames[index].graph)

# %% [markdown]
# ## The slider
#
# `step_slider` shows the graph as a page to step through: the buttons, the slider or
# the arrow keys move through the forward and the backward pass, with the chain rule in
# numbers at each node, and you can change an input to see every number recomputed.
# A viewer that runs no scripts (the repository's web page, for one) shows the final
# state instead: run the notebook to step. Notebook 07 is all about this page.

# %%
step_slider(L, local_grads=True)

# %% [markdown]
# ## The animation
#
# `save_animation` writes the frames as a looping GIF, for slides or a README. It goes
# to the temporary folder and is shown here.

# %%
gif = save_animation(L, workdir / "backprop.gif", local_grads=True, seconds_per_frame=1.0)
print(f"{gif.name}: {gif.stat().st_size / 1024:.0f} KiB")
Image(filename=gif)

# %% [markdown]
# The temporary folder, with the GIF in it, goes.

# %%
scratch.cleanup()

# %% [markdown]
# Next, in `03_neuron_layer_mlp`: the same machinery inside a neuron, a layer, and a
# small network that learns. But first, your turn.

# %% [markdown]
# ## Your turn
#
# Two exercises. Write your answer in place of each `...`, run the cell, then run the
# check below it: it says "Right" or what is wrong, with the input and both numbers.
# The solutions are in `notebooks/solutions/02_backprop_step_by_step.py`; try first.

# %%
from scalargrad import Value
from scalargrad.exercises import check_backward, check_signs

# %% [markdown]
# ### Exercise 1: finish a `_backward`
#
# Here is multiplication written the lecture's way: the forward value, a new Value
# that remembers its two parents, and a `_backward` that passes `out.grad` on to each
# parent times the local derivative. Fill in the two local derivatives. The check
# compares your gradients with the engine's `*`, and also calls `mul(a, a)`: one Value
# as both inputs, where each path's share must be *added*.

# %%
# Exercise 1: your answer
def mul(a, b):
    out = Value(a.data * b.data, (a, b), "*")

    def _backward():
        a.grad += ... * out.grad
        b.grad += ... * out.grad

    out._backward = _backward
    return out

# %%
# Exercise 1: check
check_backward(mul, at=[[2.0, -3.0], [0.5, 4.0]], reference=lambda a, b: a * b)

# %% [markdown]
# ### Exercise 2: predict the signs
#
# In L = sigmoid(a·b + a), a is used twice. With a = 1 and b = −2, predict the signs of
# dL/da and dL/db (`"+"`, `"-"` or `"0"`). Add up both of a's paths.

# %%
a, b = Value(1.0, label="a"), Value(-2.0, label="b")
L = (a * b + a).sigmoid()

# %%
# Exercise 2: your answer
predicted = {"a": ..., "b": ...}

# %%
# Exercise 2: check
L.backward()
check_signs(predicted, {"a": a, "b": b})
