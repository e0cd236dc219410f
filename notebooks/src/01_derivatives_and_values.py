# %% [markdown]
# # 1. Derivatives and Values
#
# A derivative says how much an output moves when one input is nudged. This notebook
# measures one by nudging, then builds a small expression out of `Value`s, works out
# every gradient by hand, and checks that `backward()` gives the same numbers.

# %% [markdown]
# ## A derivative by finite differences
#
# Take f(x) = x³ − 2x. Its derivative is 3x² − 2, so at x = 1.5 the slope is 4.75.
# Nudge x by h and divide the change in f by h. Look at the error column: it shrinks
# with h until about h = 1e-8, then grows again, because f(x + h) − f(x) loses digits to rounding.

# %%
def f(x):
    return x**3 - 2 * x


x0 = 1.5
exact = 3 * x0**2 - 2
for h in [1e-1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12]:
    slope = (f(x0 + h) - f(x0)) / h
    print(f"h = {h:.0e}   slope = {slope:.10f}   error = {abs(slope - exact):.1e}")

# %% [markdown]
# Nudging both ways, (f(x + h) − f(x − h)) / 2h, cancels the part of the error
# proportional to h. What is left is proportional to h²: each 10× smaller h makes the
# error 100× smaller, until rounding takes over again.

# %%
for h in [1e-1, 1e-2, 1e-4, 1e-6]:
    slope = (f(x0 + h) - f(x0 - h)) / (2 * h)
    print(f"h = {h:.0e}   slope = {slope:.10f}   error = {abs(slope - exact):.1e}")

# %% [markdown]
# ## Values build a graph
#
# A `Value` wraps one number. Arithmetic on Values gives new Values that remember their
# inputs (`parents`) and the operation (`op`). Here L = tanh(x·y + z), with a label on
# each node so the pictures can name it.

# %%
from scalargrad import Value

x = Value(1.5, label="x")
y = Value(-2.0, label="y")
z = Value(2.5, label="z")
p = x * y
p.label = "p"
q = p + z
q.label = "q"
L = q.tanh()
L.label = "L"

for node in (p, q, L):
    parents = ", ".join(parent.label for parent in node.parents)
    print(f"{node.label} = {node.data:+.4f}   op {node.op!r}   parents: {parents}")

# %% [markdown]
# `draw_graph` draws the expression left to right: each box is a Value (label, data, grad),
# each oval the op that made the box it points to. Every `grad` is still 0: nothing has
# asked for a derivative yet. (`format="png"` keeps the picture visible on sites that hide SVG.)

# %%
from scalargrad.viz import draw_graph

draw_graph(L, format="png")

# %% [markdown]
# ## Gradients by hand, from the output back
#
# We want dL/d(node) for every node. Start at L itself (dL/dL = 1) and move one node
# back at a time, multiplying by that node's own derivative (the chain rule):
#
# - L = tanh(q), and tanh′(q) = 1 − tanh(q)², so dL/dq = 1 − L².
# - q = p + z: a sum passes its gradient to both inputs unchanged.
# - p = x · y: each input gets the gradient times the *other* input.

# %%
dL_dL = 1.0
dL_dq = dL_dL * (1 - L.data**2)
dL_dp = dL_dq * 1.0
dL_dz = dL_dq * 1.0
dL_dx = dL_dp * y.data
dL_dy = dL_dp * x.data

by_hand = {"L": dL_dL, "q": dL_dq, "p": dL_dp, "z": dL_dz, "x": dL_dx, "y": dL_dy}
for name, grad in by_hand.items():
    print(f"dL/d{name} = {grad:+.6f}")

# %% [markdown]
# ## `backward()` does the same walk
#
# One call fills in `.grad` on every node. The last column compares it with the hand
# numbers; all should say `True`.

# %%
import math

L.backward()
for node in (L, q, p, z, x, y):
    same = math.isclose(node.grad, by_hand[node.label], rel_tol=1e-12)
    print(f"{node.label}: backward {node.grad:+.6f}   by hand {by_hand[node.label]:+.6f}   {same}")

# %% [markdown]
# The same graph after `backward()`. Blue boxes have a positive gradient (raising them
# raises L), red ones a negative gradient; the deeper the colour, the larger |grad|.
# The small numbers on the edges are each op's local derivative d(out)/d(in).

# %%
draw_graph(L, local_grads=True, format="png")

# %% [markdown]
# `before_after` puts the two states side by side without touching `.grad`, handy for
# slides. The colours share one scale, so the two halves compare directly.

# %%
from scalargrad.viz import before_after

before_after(L, local_grads=True, format="png")

# %% [markdown]
# ## What a gradient means
#
# x.grad ≈ −1.57 predicts that nudging x by +0.001 moves L by about −0.00157. Rebuild
# the expression with each input nudged in turn and compare the measured change with
# the prediction.


# %%
def L_at(x, y, z):
    """L for plain numbers: the same expression, built from fresh Values."""
    return (Value(x) * y + z).tanh().data


h = 1e-3
point = {"x": 1.5, "y": -2.0, "z": 2.5}
leaves = {"x": x, "y": y, "z": z}
for name in point:
    nudged = dict(point, **{name: point[name] + h})
    change = L_at(**nudged) - L_at(**point)
    print(f"nudge {name} by {h}: L moves {change:+.6f}, grad predicts {leaves[name].grad * h:+.6f}")

# %% [markdown]
# Next, in `02_backprop_step_by_step`: the order `backward()` visits the nodes in, and
# what happens when one Value feeds two ops. But first, your turn.

# %% [markdown]
# ## Your turn
#
# Two exercises. Write your answer in place of each `...`, run the cell, then run the
# check below it: it says "Right" or what is wrong, with the input and both numbers.
# The solutions are in `notebooks/solutions/01_derivatives_and_values.py`; try first.

# %%
import math

from scalargrad import Value
from scalargrad.exercises import check_local_derivative, check_signs

# %% [markdown]
# ### Exercise 1: a local derivative
#
# sigmoid(x) = 1 / (1 + e⁻ˣ). Write its derivative d sigmoid(x)/dx as a function of the
# float x (hint: it can be written with sigmoid(x) itself). The check compares it with
# what `backward()` gives at a few points.

# %%
# Exercise 1: your answer
def sigmoid_derivative(x):
    return ...

# %%
# Exercise 1: check
check_local_derivative(sigmoid_derivative, lambda v: v.sigmoid(), at=[-2.0, 0.0, 1.5])

# %% [markdown]
# ### Exercise 2: predict the signs
#
# Without running `backward()`, predict the sign of dL/da, dL/db, dL/dc and dL/dd for
# the expression below: `"+"`, `"-"`, or `"0"` for a gradient that is exactly zero.
# (Hints: tanh rises everywhere; relu is flat where its input is negative.)

# %%
a, b, c, d = Value(-1.5, label="a"), Value(2.0, label="b"), Value(0.5, label="c"), Value(-1.0, label="d")
L = (a * b - c).tanh() + (d * 2).relu()
print(f"a·b − c = {(a * b - c).data}, d·2 = {(d * 2).data}, L = {L.data:.4f}")

# %%
# Exercise 2: your answer
predicted = {"a": ..., "b": ..., "c": ..., "d": ...}

# %%
# Exercise 2: check
L.backward()
check_signs(predicted, {"a": a, "b": b, "c": c, "d": d})
