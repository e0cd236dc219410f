# %% [markdown]
# # 7. Backprop in the browser
#
# `step_slider(root)` shows a graph as a page you step through, inline in the notebook:
# the forward pass fills in each node's data, then the backward pass hands each node's
# gradient to its inputs, with the chain rule written out in numbers. You can change an
# input and every number is recomputed, in the page itself. `save_html(root, path)`
# writes the same page as one HTML file that opens offline in any browser, for slides or
# to send to someone.
#
# The page runs in JupyterLab, VS Code and exported HTML. A viewer that runs no
# scripts (the repository's web page, for one) shows the graph's final state instead:
# run the notebook to step through it.

# %%
import tempfile
from pathlib import Path

from scalargrad import Value
from scalargrad.viz import save_html, step_slider

# Anything this notebook writes goes here, and nowhere else; the last cell removes it.
scratch = tempfile.TemporaryDirectory(prefix="scalargrad-07-")
workdir = Path(scratch.name)

# %% [markdown]
# ## The lecture's neuron
#
# Two inputs, two weights and a bias, o = tanh(x1·w1 + x2·w2 + b), with the numbers of
# the micrograd lecture: the bias is chosen so that n ≈ 0.8814 and o ≈ 0.7071, where
# tanh's local derivative 1 − o² is exactly ½.

# %%
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
x1w1 = x1 * w1
x1w1.label = "x1*w1"
x2w2 = x2 * w2
x2w2.label = "x2*w2"
x1w1x2w2 = x1w1 + x2w2
x1w1x2w2.label = "x1*w1 + x2*w2"
n = x1w1x2w2 + b
n.label = "n"
o = n.tanh()
o.label = "o"

step_slider(o, local_grads=True, title="The lecture's neuron")

# %% [markdown]
# What to try:
#
# - **Step** with Next (or → after clicking the page). The forward pass fills in the
#   nodes from the inputs to o; the backward pass starts with do/do = 1 and goes back.
# - **Watch the `+` nodes route** the gradient unchanged to both inputs (local
#   derivative 1), and **the `*` nodes swap**: x1's gradient is w1 times the gradient of
#   the product, w1's is x1 times it.
# - **x2 = 0, so w2 gets no gradient**: w2's gradient is x2 times that of x2·w2. Change
#   x2 to 1 with "Change an input" and Recompute: w2's gradient is no longer 0, and every
#   other number moves too, as n and o change.
# - **Saturate the tanh**: set b to 10. Now o ≈ 1, 1 − o² is almost 0, and every
#   gradient behind the tanh nearly vanishes: the inputs barely matter to o any more.
#
# The engine's own numbers, for comparison with the page's last step:

# %%
o.backward()
for leaf in (x1, w1, x2, w2, b):
    print(f"do/d{leaf.label} = {leaf.grad:+.4f}")

# %% [markdown]
# ## A node reached along two paths
#
# Here `a` feeds both the product d = a·b and the sum e = a + b, so the gradient
# reaches `a` twice. In the page, step through the backward pass and watch a's running
# sum: the first contribution arrives, then the second is **added** to it. (micrograd's
# first version overwrote it instead, the bug this example made famous.)

# %%
a, b = Value(-2.0, label="a"), Value(3.0, label="b")
d = a * b
d.label = "d"
e = a + b
e.label = "e"
f = d * e
f.label = "f"

step_slider(f, local_grads=True, title="a used twice")

# %% [markdown]
# By the chain rule, df/da is the sum over both paths: through d, e · b = 1 · 3 = 3;
# through e, d · 1 = −6. The sum is −3, as `backward()` gives:

# %%
f.backward()
print(f"df/da = {a.grad:+.1f}, df/db = {b.grad:+.1f}")

# %% [markdown]
# ## The page as a file
#
# `save_html` writes the page to a file that opens in any browser, with nothing fetched
# from the network. It goes to the temporary folder here; give it a path of your own to
# keep it.

# %%
page = save_html(o, workdir / "neuron.html", local_grads=True, title="The lecture's neuron")
print(f"{page.name}: {page.stat().st_size / 1024:.0f} KiB, one self-contained file")
scratch.cleanup()

# %% [markdown]
# A page steps through a graph node by node, which teaches up to a few hundred nodes.
# For a whole network, `draw_mlp` shows it a layer at a time (notebook 08). But first,
# your turn.

# %% [markdown]
# ## Your turn
#
# Two exercises. Each asks for one number: work it out by the chain rule, or change an
# input in the page and read it there, then run the check below your answer. The
# solutions are in `notebooks/solutions/07_backprop_in_the_browser.py`; try first.

# %%
from scalargrad import Value
from scalargrad.exercises import check_number
from scalargrad.viz import step_slider


def lecture_neuron(x2_value):
    """The lecture's neuron with x2 set to x2_value: (o, w2)."""
    x1, x2 = Value(2.0, label="x1"), Value(x2_value, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    return o, w2

# %% [markdown]
# ### Exercise 1: w2's gradient once x2 is 1
#
# In the lecture's neuron above, x2 = 0 and w2's gradient is 0. Change x2 to 1 in its
# page: what is do/dw2 now? (By hand: n becomes 0.8814 + 1, and do/dw2 = x2 · (1 − o²).)
# Four digits are enough.

# %%
# Exercise 1: your answer
dw2 = ...

# %%
# Exercise 1: check
check_number(dw2, lecture_neuron(1.0)[1].grad, "do/dw2 with x2 = 1")

# %% [markdown]
# ### Exercise 2: a gradient along two paths
#
# L = (a + b) · a, with a = 1.5 and b = −2: `a` reaches L along two paths. The page
# below has the gradients at these inputs. What is dL/da when **a = −1** (b still −2)?
# Change a in the page, or add up both paths by hand.

# %%
def two_paths(a_value):
    """L = (a + b) * a at a = a_value, b = -2: (L, a)."""
    a, b = Value(a_value, label="a"), Value(-2.0, label="b")
    s = a + b
    s.label = "s"
    L = s * a
    L.label = "L"
    return L, a


step_slider(two_paths(1.5)[0], local_grads=True, title="L = (a + b) * a")

# %%
# Exercise 2: your answer
dL_da = ...

# %%
# Exercise 2: check
L, a = two_paths(-1.0)
L.backward()
check_number(dL_da, a.grad, "dL/da at a = -1")
