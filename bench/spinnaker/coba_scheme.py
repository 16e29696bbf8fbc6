#!/usr/bin/env python3
"""Why VA COBA at dt = 1 ms differs on SpiNNaker (docs/spinnaker.md): the
VA COBA network (4000 cells) in float64 with sPyNNaker's update
scheme (conductances turned into a current from the membrane at the start
of the step, then the LIF closed-form step), at dt = 1 and 0.1 ms, and with
the membrane integrated exactly over the step (conductance held constant,
as the exponential Euler of the reference's conductance model would)."""
import numpy as np
import scipy.sparse as sp

def run(dt, seed, exact=False, tstop=1000.0):
    rng = np.random.default_rng(seed)
    n_exc, n_inh = 3200, 800
    n = n_exc + n_inh
    tau_m, cm, v_rest, v_reset, v_th, t_ref = 20.0, 0.2, -60.0, -60.0, -50.0, 5.0
    tau_e, tau_i, E_e, E_i = 5.0, 10.0, 0.0, -80.0
    R = tau_m / cm
    w_e, w_i, w_ext = 0.004, 0.051, 0.1
    d = int(round(2.0 / dt))
    C = (rng.random((n, n)) < 0.02)
    W_e = sp.csr_matrix(C[:, :n_exc] * w_e)   # post x pre
    W_i = sp.csr_matrix(C[:, n_exc:] * w_i)
    ext = sp.csr_matrix((rng.random((n, 20)) < 0.01) * w_ext)
    v = rng.uniform(v_reset, v_th, n)
    ge = np.zeros(n); gi = np.zeros(n); refr = np.zeros(n, int)
    ie, ii = tau_e / dt * (1 - np.exp(-dt / tau_e)), tau_i / dt * (1 - np.exp(-dt / tau_i))
    de, di, em = np.exp(-dt / tau_e), np.exp(-dt / tau_i), np.exp(-dt / tau_m)
    steps = int(tstop / dt)
    ring_e = np.zeros((d + 1, n)); ring_i = np.zeros((d + 1, n))
    nref = int(np.ceil(t_ref / dt))
    count = 0
    for k in range(steps):
        slot = k % (d + 1)
        ge += ring_e[slot] * ie; gi += ring_i[slot] * ii
        ring_e[slot] = 0; ring_i[slot] = 0
        free = refr <= 0
        if exact:
            # the membrane's linear ODE with g held: exact over the step
            gt = 1.0 / R + ge + gi
            vinf = (v_rest / R + ge * E_e + gi * E_i) / gt
            vn = vinf + (v - vinf) * np.exp(-dt * gt / cm)
        else:
            I = ge * (E_e - v) + gi * (E_i - v)
            a = I * R + v_rest
            vn = a - em * (a - v)
        v = np.where(free, vn, v)
        refr = np.where(free, refr, refr - 1)
        spk = v >= v_th
        v[spk] = v_reset; refr[spk] = nref
        count += spk[:n_exc].sum()
        ge *= de; gi *= di
        tgt = (k + d) % (d + 1)
        s = spk.astype(float)
        ring_e[tgt] += W_e @ s[:n_exc]
        ring_i[tgt] += W_i @ s[n_exc:]
        if k * dt < 50:
            p = (rng.random(20) < 100.0 * dt / 1000).astype(float)
            ring_e[(k + 1) % (d + 1)] += ext @ p
    return count / n_exc / (tstop / 1000)

for seed in (1, 2, 3):
    print("seed", seed,
          "scheme dt1 %.2f Hz" % run(1.0, seed),
          "| scheme dt0.1 %.2f Hz" % run(0.1, seed),
          "| exact-membrane dt1 %.2f Hz" % run(1.0, seed, exact=True), flush=True)
