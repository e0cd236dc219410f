# %% [markdown]
# # 5. Checking gradients
#
# A wrong derivative rule does not crash: training just goes badly, or slowly. The
# defence is to compare every gradient with a finite-difference estimate. This notebook
# does that by hand, with `gradcheck`, with a property test over many inputs, and for
# second derivatives. The first cell imports what the notebook uses and makes a
# temporary folder for hypothesis's cache.

# %%
import math
import tempfile

import matplotlib.pyplot as plt

from scalargrad import GradcheckError, Value, gradcheck, gradgradcheck, no_grad

# Anything this notebook writes goes here, and nowhere else; the last cell removes it.
scratch = tempfile.TemporaryDirectory(prefix="scalargrad-05-")
workdir = scratch.name

# %% [markdown]
# ## How small should the step be?
#
# For f(x) = sin(x)·eˣ at x = 0.6, plot the error of the one-sided and the central
# estimate against the step h. Look for the V shapes: on the right the formula's own
# error falls as h shrinks (slope 1 for one-sided, 2 for central); on the left,
# rounding error grows as 1/h. The central estimate's best h is near 1e-5, with an
# error near 1e-11.


# %%
def f(x):
    return math.sin(x) * math.exp(x)


x0 = 0.6
exact = (math.cos(x0) + math.sin(x0)) * math.exp(x0)
steps = [10.0**-k for k in range(1, 15)]
one_sided = [abs((f(x0 + h) - f(x0)) / h - exact) for h in steps]
central = [abs((f(x0 + h) - f(x0 - h)) / (2 * h) - exact) for h in steps]

fig, ax = plt.subplots(figsize=(6, 3.6), dpi=80)
ax.loglog(steps, one_sided, "o-", label="one-sided (f(x+h) − f(x)) / h")
ax.loglog(steps, central, "s-", label="central (f(x+h) − f(x−h)) / 2h")
ax.set(xlabel="step h", ylabel="|estimate − exact|", title="finite-difference error")
ax.grid(alpha=0.3, which="both")
ax.legend()
plt.show()

# %% [markdown]
# ## `gradcheck`
#
# `gradcheck(fn, inputs)` calls `fn` on one Value per input, runs `backward()`, and
# compares each gradient with a central difference (step 1e-6). It returns `True`, or
# raises `GradcheckError` naming the input and both numbers.


# %%
def bumpy(x, y):
    return (x * y).tanh() + (x / (1 + y * y)).exp() - y.sqrt()


gradcheck(bumpy, [0.3, 1.7])

# %% [markdown]
# Now a function with a bug a learner can easily write: part of it is computed under
# `no_grad()`, so that part is a constant to `backward()`. The value is right; the
# gradient misses x·cos(x). Read the message: backward gives sin(0.8) ≈ 0.717, the truth is 1.275.


# %%
def detached(x):
    with no_grad():
        s = x.sin()  # recorded nowhere: backward() cannot see that s depends on x
    return x * s


try:
    gradcheck(detached, [0.8])
except GradcheckError as error:
    print(error)

# %% [markdown]
# ## A property test over many inputs
#
# One point proves little. A property test, written with
# [hypothesis](https://hypothesis.readthedocs.io), checks a law at many generated
# inputs: here, "gradcheck passes for `bumpy` at any x in [−3, 3] and y in [0.1, 3]".
# The settings make it quick and the same on every run (`derandomize=True`, 200 inputs,
# no example database); hypothesis's cache goes to the temporary folder.

# %%
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(workdir)
quick = settings(max_examples=200, derandomize=True, database=None, deadline=None)


@quick
@given(x=st.floats(-3.0, 3.0), y=st.floats(0.1, 3.0))
def test_bumpy_gradients_match_finite_differences(x, y):
    assert gradcheck(bumpy, [x, y])


test_bumpy_gradients_match_finite_differences()
print("passed at 200 generated inputs")

# %% [markdown]
# Property tests earn their keep by finding the inputs you did not think of. Try the
# same law on relu(x² − 1): hypothesis finds a failure at x = 1.0, the kink where x² − 1
# crosses 0. There the engine takes the derivative to be 0 (as PyTorch does), while the
# central difference straddles the kink and measures the average of the two slopes, 0 and 2.


# %%
@quick
@given(x=st.floats(-3.0, 3.0))
def test_relu_gradients_match_finite_differences(x):
    assert gradcheck(lambda v: (v * v - 1).relu(), [x])


try:
    test_relu_gradients_match_finite_differences()
except GradcheckError as error:
    print(error.__notes__[0])
    print(error)
else:
    print("no failing input found")

# %% [markdown]
# A kink is not a bug in the rule, but a test must steer clear of it. `assume` tells
# hypothesis to discard a draw; discarding those within 0.001 of the kink makes the law
# hold again (the project's own property tests do the same for every relu and abs).

# %%
from hypothesis import assume


@quick
@given(x=st.floats(-3.0, 3.0))
def test_relu_gradients_match_away_from_the_kink(x):
    assume(abs(x * x - 1) > 1e-3)
    assert gradcheck(lambda v: (v * v - 1).relu(), [x])


test_relu_gradients_match_away_from_the_kink()
print("passed at 200 generated inputs away from the kink")

# %% [markdown]
# ## Second derivatives
#
# `backward(create_graph=True)` makes each gradient a Value with a graph of its own, so
# calling `backward()` on a gradient differentiates again. For f(x) = x³ at x = 2,
# look for f′(2) = 3x² = 12, then f″(2) = 6x = 12 again. The leaf's `.grad` is reset
# in between, because a leaf adds every backward's gradient to what it holds.

# %%
x = Value(2.0, label="x")
cube = x**3
cube.backward(create_graph=True)
first = x.grad
print(f"f'(2)  = {first.data}   (x.grad is a {type(first).__name__}, made by the op {first.op!r})")

x.grad = 0.0
first.backward()
print(f"f''(2) = {x.grad}")

# %% [markdown]
# ## A small Hessian, checked numerically
#
# The Hessian of f(x, y) holds every second derivative ∂²f/∂xᵢ∂xⱼ. Row i is the
# gradient of ∂f/∂xᵢ, so one `backward(create_graph=True)` and then one `backward()`
# per input fill it in. Take f(x, y) = x²y + sin(xy) at (0.7, −1.2).


# %%
def g(x, y):
    return x * x * y + (x * y).sin()


def hessian(fn, point):
    """Every second derivative of fn at point, from backward(create_graph=True)."""
    leaves = [Value(v) for v in point]
    fn(*leaves).backward(create_graph=True)
    first_derivatives = [leaf.grad for leaf in leaves]
    rows = []
    for derivative in first_derivatives:
        for leaf in leaves:
            leaf.grad = 0.0
        derivative.backward()
        rows.append([float(leaf.grad) for leaf in leaves])
    return rows


point = [0.7, -1.2]
H = hessian(g, point)
for row in H:
    print("  ".join(f"{v:+.10f}" for v in row))

# %% [markdown]
# The same matrix estimated from values of g alone, by central differences of central
# differences (step 1e-4), and the largest disagreement. Also look at the symmetry:
# ∂²g/∂x∂y and ∂²g/∂y∂x agree, as they must.


# %%
def g_at(x, y):
    return g(Value(x), Value(y)).data


def numerical_hessian(fn, point, h=1e-4):
    n = len(point)
    rows = []
    for i in range(n):
        row = []
        for j in range(n):

            def at(di, dj):
                p = list(point)
                p[i] += di
                p[j] += dj
                return fn(*p)

            row.append((at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h))
        rows.append(row)
    return rows


N = numerical_hessian(g_at, point)
for row in N:
    print("  ".join(f"{v:+.10f}" for v in row))
largest = max(abs(a - b) for row_h, row_n in zip(H, N) for a, b in zip(row_h, row_n))
print(f"largest difference: {largest:.1e}")
print(f"asymmetry of H: {abs(H[0][1] - H[1][0]):.1e}")

# %% [markdown]
# `gradgradcheck` runs this comparison for you: it checks each first derivative, made
# with `create_graph=True`, with `gradcheck`.

# %%
gradgradcheck(g, point)

# %% [markdown]
# Last, the temporary folder with hypothesis's cache goes.

# %%
scratch.cleanup()

# %% [markdown]
# ## Your turn
#
# Two exercises. Write your answer in place of each `...`, run the cell, then run the
# check below it: it says "Right" or what is wrong, with the input and both numbers.
# The solutions are in `notebooks/solutions/05_checking_gradients.py`; try first.

# %%
import math

from scalargrad import Value
from scalargrad.exercises import check_backward, check_local_derivative

# %% [markdown]
# ### Exercise 1: `x ** y` with a Value exponent, checked by finite differences
#
# Finish the `_backward` of x^y (x > 0), where both x and y get a gradient. There is
# no reference this time: the check runs `gradcheck` on your op, comparing your
# gradients with finite differences of your own forward value.

# %%
# Exercise 1: your answer
def power(x, y):
    out = Value(x.data**y.data, (x, y), "**")

    def _backward():
        x.grad += ... * out.grad
        y.grad += ... * out.grad

    out._backward = _backward
    return out

# %%
# Exercise 1: check
check_backward(power, at=[[1.5, 2.0], [0.7, -1.3]])

# %% [markdown]
# ### Exercise 2: a second derivative
#
# tanh′(x) = 1 − tanh(x)². Write tanh″(x), the derivative of that, as a function of
# the float x. The check compares it with `backward()` through `1 - x.tanh() ** 2`.

# %%
# Exercise 2: your answer
def tanh_second_derivative(x):
    return ...

# %%
# Exercise 2: check
check_local_derivative(tanh_second_derivative, lambda v: 1 - v.tanh() ** 2, at=[-1.0, 0.2, 1.5])
