#!/usr/bin/python3
"""Synthetic ground truth for gradex: data sources drawn from known logistic models.

The world: features z in R^D (D = 2000) already signed by their label (z = y x), a model theta whose
output on an example is f(z) = theta . z (the log-odds of the correct label) and whose loss is
-log sigmoid(f). Inputs x are mostly in a random R = 40 dimensional subspace U with a little isotropic
noise in all D dimensions, as gradients of real models are close to low rank. The target's examples
come from a model theta_T in U; twelve sources come from models near theta_T (helpful-*), near
-theta_T (harmful-*) or unrelated to it (unrelated-*).

  python3 synth.py gen DIR     writes DIR/pool.jsonl (text, source, f0), DIR/pool_grad.npy,
                               DIR/target.jsonl, DIR/target_grad.npy, DIR/theta.npy, DIR/step.txt
  python3 synth.py check DIR TSV
                               reads gradex --losses output, fine-tunes for real on each listed subset
                               and prints the Spearman correlation of estimated and true target losses

The multitask solution theta* is the L2-regularised fit on all sources by gradient descent in all D
dimensions. Per example, f0 = theta* . z and the gradient of f0 with respect to theta is z, randomly
projected to d = 200 dimensions: g = P z. True fine-tuning on a subset S is plain gradient descent from
theta* on the mean loss over S's examples, in all D dimensions; its target loss is the mean loss over
the target's examples. step.txt holds gradex's --step chosen as its manual page says: the norm of the
projected weight change P (theta_S - theta*), averaged over a few real fine-tuning runs. Everything is
drawn from one fixed seed, so check rebuilds the world that gen wrote.
"""
import json
import os
import sys

import numpy as np

D, DP, R = 2000, 200, 40
N_PER, N_TARGET = 200, 500
NOISE = 0.1             # isotropic part of the inputs
SEED = 20241
LAMBDA = 0.02           # regularisation of the multitask fit
FT_STEPS, FT_LR = 20, 0.2


def unit(rng, n):
    v = rng.standard_normal(n)
    return v / np.linalg.norm(v)


def world():
    rng = np.random.default_rng(SEED)
    U, _ = np.linalg.qr(rng.standard_normal((D, R)))
    a = 3.0
    w_t = a * unit(rng, R)
    models, names = [], []
    for kind, sign in (("helpful", 1), ("harmful", -1)):
        for i in range(4):
            models.append(sign * w_t + 0.6 * a * unit(rng, R))
            names.append("%s-%d" % (kind, i + 1))
    for i in range(4):
        models.append(a * unit(rng, R))
        names.append("unrelated-%d" % (i + 1))

    def draw(w, n):
        s = rng.standard_normal((n, R))
        x = s @ U.T + NOISE * rng.standard_normal((n, D))
        y = np.where(rng.random(n) < 1 / (1 + np.exp(-(s @ w))), 1.0, -1.0)
        return y[:, None] * x

    Z = np.concatenate([draw(w, N_PER) for w in models])
    src = np.repeat(np.arange(len(models)), N_PER)
    ZT = draw(w_t, N_TARGET)
    P = rng.standard_normal((DP, D)) / np.sqrt(DP)
    return Z, src, names, ZT, P


def sigm_neg(m):
    """sigmoid(-m), stable."""
    return np.exp(-np.logaddexp(0, m))


def nls(m):
    """-log sigmoid(m), stable."""
    return np.logaddexp(0, -m)


def multitask(Z):
    """Gradient descent with step 1 / (Lipschitz bound), the bound from a few power iterations."""
    v = np.ones(D)
    for _ in range(10):
        v = Z.T @ (Z @ v)
        v /= np.linalg.norm(v)
    lip = 0.25 * 1.1 * np.linalg.norm(Z.T @ (Z @ v)) / len(Z) + LAMBDA
    theta = np.zeros(D)
    for _ in range(150):
        theta -= (-(Z.T @ sigm_neg(Z @ theta)) / len(Z) + LAMBDA * theta) / lip
    return theta


def finetune(Z, masks, theta0):
    """Gradient descent from theta0 for every subset at once; masks is (subsets, rows) of 0/1."""
    W = masks / masks.sum(axis=1, keepdims=True)
    Th = np.repeat(theta0[:, None], len(masks), axis=1)
    for _ in range(FT_STEPS):
        R = sigm_neg(Z @ Th) * W.T
        Th += FT_LR * (Z.T @ R)
    return Th


def gen(out):
    Z, src, names, ZT, P = world()
    theta = multitask(Z)
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "theta.npy"), theta)
    np.save(os.path.join(out, "pool_grad.npy"), (Z @ P.T).astype(np.float32))
    np.save(os.path.join(out, "target_grad.npy"), (ZT @ P.T).astype(np.float32))
    with open(os.path.join(out, "pool.jsonl"), "w") as f:
        for i, z in enumerate(Z):
            f.write(json.dumps({"text": "example %d" % i, "source": names[src[i]],
                                "f0": float(z @ theta)}) + "\n")
    with open(os.path.join(out, "target.jsonl"), "w") as f:
        for i, z in enumerate(ZT):
            f.write(json.dumps({"text": "target %d" % i, "f0": float(z @ theta)}) + "\n")
    rng = np.random.default_rng(7)
    masks = np.zeros((4, len(Z)))
    for j in range(4):
        chosen = rng.choice(len(names), len(names) // 2, replace=False)
        masks[j] = np.isin(src, chosen)
    Th = finetune(Z, masks, theta)
    step = np.mean(np.linalg.norm(P @ (Th - theta[:, None]), axis=0))
    with open(os.path.join(out, "step.txt"), "w") as f:
        f.write("%.6g\n" % step)


def ranks(v):
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(len(v))
    for x in np.unique(v):  # ties share their mean rank
        r[v == x] = r[v == x].mean()
    return r


def check(out, tsv):
    Z, src, names, ZT, _ = world()
    theta = np.load(os.path.join(out, "theta.npy"))
    subsets, est = {}, {}
    with open(tsv) as f:
        next(f)
        for line in f:
            j, loss, group = line.rstrip("\n").split("\t")
            subsets.setdefault(j, set()).add(names.index(group))
            est[j] = float(loss)
    keys = sorted(subsets, key=int)
    masks = np.array([np.isin(src, sorted(subsets[k])) for k in keys], dtype=float)
    Th = finetune(Z, masks, theta)
    true = nls(ZT @ Th).mean(axis=0)
    e = np.array([est[k] for k in keys])
    rho = np.corrcoef(ranks(e), ranks(true))[0, 1]
    print("%.4f %d" % (rho, len(keys)))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: synth.py gen DIR | synth.py check DIR LOSSES.tsv")
