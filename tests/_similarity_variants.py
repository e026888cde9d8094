"""Answers to ex04's two functions for calibrating the similarity report (tests/test_similarity.py).

``HONEST`` holds five independent, correct answers per function in different styles (einsum,
per-example loops, stacked weights, recursion, ...), written as five students might. ``COPIES``
holds what a copier hands in: a reference or a classmate's answer with the variables renamed,
comments changed and independent statements reordered, or pasted verbatim from
``inspect.getsource``. Every answer uses the notebook's own forward pass: a cell cache is
``(x, h_prev, h, params)`` and a sequence cache the list of step caches.
"""

HONEST_CELL = {
    "einsum": """
def rnn_cell_backward(dh, cache):
    x, h_prev, h, params = cache
    g = dh * (1 - np.square(h))
    grads = {
        "W_xh": np.einsum("nd,nh->dh", x, g),
        "W_hh": np.einsum("nk,nh->kh", h_prev, g),
        "b_h": np.einsum("nh->h", g),
    }
    dx = np.einsum("nh,dh->nd", g, params["W_xh"])
    dh_prev = np.einsum("nh,kh->nk", g, params["W_hh"])
    return dx, dh_prev, grads
""",
    "functions": """
def rnn_cell_backward(dh, cache):
    inputs, previous, state, weights = cache
    local_slope = 1.0 - state ** 2
    delta = np.multiply(dh, local_slope)
    gradient_input = np.matmul(delta, np.transpose(weights["W_xh"]))
    gradient_previous = np.matmul(delta, np.transpose(weights["W_hh"]))
    result = {}
    for key, source in (("W_xh", inputs), ("W_hh", previous)):
        result[key] = np.matmul(np.transpose(source), delta)
    result["b_h"] = np.sum(delta, axis=0)
    return gradient_input, gradient_previous, result
""",
    "per_example": """
def rnn_cell_backward(dh, cache):
    x, h_prev, h, params = cache
    W_xh, W_hh = params["W_xh"], params["W_hh"]
    dx = np.zeros_like(x)
    dh_prev = np.zeros_like(h_prev)
    dW_xh = np.zeros_like(W_xh)
    dW_hh = np.zeros_like(W_hh)
    db_h = np.zeros(W_hh.shape[0])
    for n in range(x.shape[0]):  # one example at a time, as on paper
        da = dh[n] * (1 - h[n] * h[n])
        dx[n] = W_xh @ da
        dh_prev[n] = W_hh @ da
        dW_xh += np.outer(x[n], da)
        dW_hh += np.outer(h_prev[n], da)
        db_h += da
    return dx, dh_prev, {"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h}
""",
    "stacked": """
def rnn_cell_backward(dh, cache):
    x, h_prev, h, params = cache
    D = x.shape[1]
    dz = (1 - h ** 2) * dh
    W = np.vstack([params["W_xh"], params["W_hh"]])  # (D + H, H): one affine map
    xh = np.hstack([x, h_prev])  # (N, D + H)
    dxh = dz @ W.T
    dW = xh.T @ dz
    grads = {"W_xh": dW[:D], "W_hh": dW[D:], "b_h": dz.sum(0)}
    return dxh[:, :D], dxh[:, D:], grads
""",
    "helper": """
def rnn_cell_backward(dh, cache):
    x, h_prev, h, params = cache

    def back_through_affine(upstream, inp, weight):
        return upstream.dot(weight.T), np.tensordot(inp, upstream, axes=([0], [0]))

    d_pre = dh - dh * h * h
    dx, dW_xh = back_through_affine(d_pre, x, params["W_xh"])
    dh_prev, dW_hh = back_through_affine(d_pre, h_prev, params["W_hh"])
    return dx, dh_prev, dict(W_xh=dW_xh, W_hh=dW_hh, b_h=np.add.reduce(d_pre, axis=0))
""",
}

HONEST_SEQUENCE = {
    "while_loop": """
def rnn_backward(dH, cache):
    t = len(cache) - 1
    carry = np.zeros_like(dH[0])
    dX = []
    total = {}
    while t >= 0:
        dx, carry, g = rnn_cell_backward(dH[t] + carry, cache[t])
        dX.insert(0, dx)
        for name, value in g.items():
            total[name] = total.get(name, 0) + value
        t -= 1
    return np.array(dX), carry, total
""",
    "preallocated": """
def rnn_backward(dH, cache):
    T, N, H = dH.shape
    D = cache[0][0].shape[1]
    dX = np.zeros((T, N, D), dtype=dH.dtype)
    grads = {k: np.zeros_like(v) for k, v in cache[0][3].items()}
    dh_from_future = np.zeros((N, H), dtype=dH.dtype)
    for step in range(T - 1, -1, -1):
        dx_t, dh_from_future, g_t = rnn_cell_backward(dH[step] + dh_from_future, cache[step])
        dX[step] = dx_t
        for k in grads:
            grads[k] += g_t[k]
    return dX, dh_from_future, grads
""",
    "zip_reversed": """
def rnn_backward(dH, cache):
    upstream = np.zeros_like(dH[-1])
    per_step = []
    for dh_t, step_cache in zip(dH[::-1], cache[::-1]):
        dx, upstream, g = rnn_cell_backward(dh_t + upstream, step_cache)
        per_step.append((dx, g))
    per_step.reverse()
    dX = np.stack([dx for dx, _ in per_step])
    names = per_step[0][1].keys()
    grads = {n: sum(g[n] for _, g in per_step) for n in names}
    return dX, upstream, grads
""",
    "recursive": """
def rnn_backward(dH, cache):
    def back(t, dh_future):
        if t < 0:
            return [], dh_future, None
        dx, dh_prev, g = rnn_cell_backward(dH[t] + dh_future, cache[t])
        earlier, dh0, g_earlier = back(t - 1, dh_prev)
        if g_earlier is not None:
            g = {key: g[key] + g_earlier[key] for key in g}
        return earlier + [dx], dh0, g

    dxs, dh0, grads = back(len(cache) - 1, np.zeros_like(dH[0]))
    return np.asarray(dxs), dh0, grads
""",
    "in_place": """
def rnn_backward(dH, cache):
    steps = len(cache)
    grads = None
    dX = [None] * steps
    dh = np.zeros(dH.shape[1:], dtype=dH.dtype)
    for i, c in reversed(list(enumerate(cache))):
        dx, dh, step_grads = rnn_cell_backward(dH[i] + dh, c)
        dX[i] = dx
        if grads is None:
            grads = {k: v.copy() for k, v in step_grads.items()}
        else:
            for k in grads:
                np.add(grads[k], step_grads[k], out=grads[k])
    return np.stack(dX, axis=0), dh, grads
""",
}

# rnncore.rnn_cell_backward adapted to the notebook's cache: names changed, the weight
# gradients moved before the input gradients, the guard and validation lines dropped.
COPY_REFERENCE_CELL = """
def rnn_cell_backward(dh, cache):
    inp, prev, out, p = cache
    Wx, Wh = p["W_xh"], p["W_hh"]
    # gradient through the nonlinearity
    g = dh * (1 - out**2)
    gWh = prev.T @ g
    gWx = inp.T @ g
    gb = g.sum(axis=0)
    d_inp = g @ Wx.T
    d_prev = g @ Wh.T
    return d_inp, d_prev, {"W_xh": gWx, "W_hh": gWh, "b_h": gb}
"""

# solutions/ex04_bptt's model answer for rnn_backward, renamed and reordered
COPY_MODEL_SEQUENCE = """
def rnn_backward(dH, cache):
    steps = dH.shape[0]
    g = None
    carry = np.zeros_like(dH[0])
    outs = [None] * steps
    for k in reversed(range(steps)):
        d_in, carry, g_k = rnn_cell_backward(dH[k] + carry, cache[k])
        outs[k] = d_in
        if g is None:
            g = g_k
        else:
            g = {key: g[key] + g_k[key] for key in g}
    d_initial = carry
    outs = np.stack(outs)
    return outs, d_initial, g
"""

# a classmate's "per_example" answer, renamed and with independent lines swapped
COPY_CLASSMATE_CELL = """
def rnn_cell_backward(dh, cache):
    inputs, before, after, weights = cache
    A, B = weights["W_xh"], weights["W_hh"]
    grad_before = np.zeros_like(before)
    grad_inputs = np.zeros_like(inputs)
    gB = np.zeros_like(B)
    gA = np.zeros_like(A)
    gbias = np.zeros(B.shape[0])
    for row in range(inputs.shape[0]):
        local = dh[row] * (1 - after[row] * after[row])
        grad_inputs[row] = A @ local
        grad_before[row] = B @ local
        gA += np.outer(inputs[row], local)
        gB += np.outer(before[row], local)
        gbias += local
    return grad_inputs, grad_before, {"W_xh": gA, "W_hh": gB, "b_h": gbias}
"""
