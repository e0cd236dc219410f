"""Solutions to the exercises of notebook 07. Each block replaces the cell that starts
`# Exercise N: your answer`."""

# %% Exercise 1
# n = 0.8814 + 1 = 1.8814, o = tanh(1.8814) = 0.9546, 1 - o² = 0.08871; do/dw2 is
# x2 = 1 times that. (The page shows 0.08871 on w2.)
dw2 = 0.08871


# %% Exercise 2
# Through the product L = s * a: s = a + b = -3, so a gets -3 directly; through the
# sum, a gets dL/ds * 1 = a = -1. Together (2a + b): -4.
dL_da = -4.0
