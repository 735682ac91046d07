"""Rasch calibration of item difficulties: conditional, joint and marginal maximum likelihood.

Public entry point: ``calibrate(responses, *, method="cml", anchors=None) -> Calibration``
(also exported as ``psychometrics.calibrate``). Pure numpy/scipy; no Django.

Model: P(correct | theta, b) = logistic(theta - b). ``responses`` is a persons x items array
with 1 = correct, 0 = wrong and NaN = not presented; each person may have answered a
different subset of the items (e.g. one of several forms that share items).

Methods
-------
``"cml"`` (default): conditional maximum likelihood. Given a person's raw score the
    likelihood of the response pattern does not involve the ability, only the elementary
    symmetric functions (ESFs) of exp(-b) over the items the person saw. Persons who saw
    the same item set form a *design group* and share the ESFs; the conditional likelihood
    depends on the data only through the item totals and the raw-score distribution of each
    design group, so after one pass over the data the cost does not grow with the number
    of persons. ESFs (with every item left out in turn) are computed with the summation
    algorithm on exp(-b) centred at 1, renormalising each row every few steps and keeping
    the scale in logs, so nothing overflows for hundreds of items; if an order still
    underflows (extreme tests) the same recursion is redone in log space. The maximisation
    is full Newton-Raphson: the Hessian needs the pairwise probabilities
    P(x_i = x_j = 1 | r), and summed over raw scores they have the closed form
    (e_j E_i - e_i E_j) / (e_j - e_i) (e = exp(-b), E = expected item totals); pairs with
    (nearly) equal difficulties, where that form cancels, are computed exactly from the
    ESFs without both items. Persons with a zero or perfect score carry no information
    and are ignored.
``"jml"``: joint maximum likelihood (alternating Newton steps for item and person
    parameters; persons with the same item set and raw score share one ability). Persons
    with extreme scores are dropped (repeatedly, together with items that become extreme).
    The difficulties are multiplied by the usual bias correction (L - 1) / L, L being the
    mean number of items the retained persons answered (Wright & Douglas 1977); their
    standard errors are scaled by the same factor. With anchors the free items are shrunk
    by that factor towards the anchors' mean instead (an approximation: prefer CML for
    anchoring, where no correction is needed).
``"mml"``: marginal maximum likelihood with abilities N(0, 1), 41-point Gauss-Hermite
    quadrature and Newton-Raphson on the marginal likelihood with its exact Hessian (the
    posterior of a person's ability depends only on the raw score, so item totals and the
    raw-score distribution suffice). Complete matrices only (NaN raises ValueError). The
    location is fixed by the N(0, 1) ability distribution, so the difficulties are NOT
    mean-centred (as in ltm's ``rasch`` with the discrimination fixed at 1). With
    anchors, the ability mean is estimated instead. Every person is used, including zero
    and perfect scores (the ability distribution keeps their contribution finite).

Scale, anchors and items that cannot be estimated
--------------------------------------------------
Without anchors, CML and JML difficulties have mean 0 over the estimable items. With
``anchors`` ({item index: difficulty}) those items are fixed and the others are estimated
on their scale (no centring); this is how pretest items join the bank scale. Anchors must
reach every part of the design (ValueError otherwise), and without anchors the design must
be connected (every pair of items linked through persons who saw both, directly or via
other items).

An item that everybody who saw it (among the persons used by the method) answered
correctly, or everybody wrong, has no finite estimate: it is reported with NaN difficulty,
NaN statistics and ``estimable`` False, and left out of the estimation of the others.

Standard errors come from the inverse of the information matrix of the method's
likelihood (under the sum-to-zero constraint when there are no anchors); anchored items
have NaN standard errors (they are not estimated).

Fit statistics (all methods): the usual mean squares computed from person abilities
estimated by maximum likelihood given the reported difficulties, over the items each
person saw. Persons with zero or perfect scores (whose MLE is infinite) are excluded.
Outfit is the mean of the squared standardised residuals over the persons who saw the
item; infit is the information-weighted version, sum (x - P)^2 / sum P(1 - P). Both
have expectation 1 under the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit

METHODS = ("cml", "jml", "mml")

_MAX_ITER = 200
_TOL = 1e-9
# Relative difference of exp(b) below which the closed form for pairwise probabilities
# loses more than ~1e-10 to cancellation; such pairs are computed from their own ESFs.
_CLOSE = 1e-5
_MML_POINTS = 41
_BLOCK = 8192  # rows per block when scanning the response matrix


@dataclass(frozen=True)
class Calibration:
    """Result of ``calibrate``. Arrays have one entry per item (column of the input)."""

    difficulties: np.ndarray  # logits; NaN where not estimable
    se: np.ndarray  # standard errors; NaN for anchors and non-estimable items
    infit: np.ndarray  # information-weighted mean square
    outfit: np.ndarray  # unweighted mean square
    method: str
    estimable: np.ndarray  # bool: has a difficulty (estimated or anchored)
    anchored: np.ndarray  # bool: difficulty was fixed by ``anchors``
    n_persons: int  # persons whose responses informed the estimates
    n_items: int
    iterations: int
    converged: bool
    log_likelihood: float  # conditional (cml), joint (jml) or marginal (mml)
    n_responses: np.ndarray  # per item: responses of those persons that were used

    @property
    def n_estimable(self) -> int:
        return int(self.estimable.sum())


def calibrate(responses, *, method: str = "cml", anchors=None) -> Calibration:
    """Estimate Rasch item difficulties; see the module docstring for the methods."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    correct, presented = _read_responses(responses, allow_missing=method != "mml")
    n_items = correct.shape[1]
    anchor_values = _read_anchors(anchors, n_items)
    if method == "mml":
        return _calibrate_mml(correct, anchor_values)
    return _calibrate_conditional_or_joint(correct, presented, anchor_values, method)


# --------------------------------------------------------------------------------------
# Input handling and the design-group / raw-score cell structure
# --------------------------------------------------------------------------------------


def _read_responses(responses, *, allow_missing: bool) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(responses)
    if x.ndim != 2:
        raise ValueError(f"responses must be a persons x items matrix, got shape {x.shape}")
    if x.dtype == bool:
        return x, np.ones(x.shape, dtype=bool)
    if x.dtype.kind not in "iuf":
        raise ValueError(f"responses must be numeric, got dtype {x.dtype}")
    correct = x == 1
    if x.dtype.kind == "f":
        presented = ~np.isnan(x)
        if not allow_missing and not presented.all():
            raise ValueError("method 'mml' needs a complete matrix (responses contain NaN)")
    else:
        presented = np.ones(x.shape, dtype=bool)
    for start in range(0, x.shape[0], _BLOCK):  # in blocks: no full-size temporaries
        rows = slice(start, start + _BLOCK)
        if ((x[rows] != 0) & ~correct[rows] & presented[rows]).any():
            raise ValueError("responses must be 1 (correct), 0 (wrong) or NaN (not presented)")
    return correct, presented


def _read_anchors(anchors, n_items: int) -> dict[int, float]:
    if not anchors:
        return {}
    out = {}
    for key, value in dict(anchors).items():
        i = int(key)
        if not 0 <= i < n_items:
            raise ValueError(f"anchor item index {key} is out of range 0..{n_items - 1}")
        v = float(value)
        if not np.isfinite(v):
            raise ValueError(f"anchor difficulty for item {key} must be finite")
        out[i] = v
    return out


@dataclass
class _Cells:
    """Persons grouped by design group (set of items seen) and raw score.

    Column indices refer to ``cols`` (the items taking part). Persons with zero or perfect
    scores on those items are excluded.
    """

    cols: np.ndarray  # item indices (into the full matrix) taking part
    patterns: np.ndarray  # groups x len(cols) bool: items each design group saw
    cell_group: np.ndarray  # per cell
    cell_score: np.ndarray  # per cell: raw score
    cell_n: np.ndarray  # per cell: number of persons
    counts: np.ndarray  # cells x len(cols): persons in the cell who got the item right

    @property
    def seen(self) -> np.ndarray:
        """cells x len(cols) bool: whether the cell's persons saw the item."""
        return self.patterns[self.cell_group]

    def n_responses(self) -> np.ndarray:
        return self.cell_n @ self.seen

    def totals(self) -> np.ndarray:
        return self.counts.sum(axis=0)

    def group_cells(self, g: int) -> np.ndarray:
        return np.flatnonzero(self.cell_group == g)


def _cells(correct: np.ndarray, presented: np.ndarray, cols: np.ndarray) -> _Cells:
    n_cols = len(cols)
    if n_cols == presented.shape[1]:  # every item takes part: no need for copies
        seen, right = presented, correct
    else:
        seen, right = presented[:, cols], correct[:, cols]
    length = seen.sum(axis=1)
    score = right.sum(axis=1)
    kept = np.flatnonzero((score > 0) & (score < length))
    if len(kept) == 0 or n_cols == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Cells(cols, np.zeros((0, n_cols), bool), empty, empty, empty, np.zeros((0, n_cols)))
    packed = np.ascontiguousarray(np.packbits(seen, axis=1)[kept])
    keys = packed.view(np.dtype((np.void, packed.shape[1])))[:, 0]
    unique_keys, group = np.unique(keys, return_inverse=True)
    group = group.ravel()
    raw = np.frombuffer(unique_keys.tobytes(), dtype=np.uint8).reshape(len(unique_keys), -1)
    patterns = np.unpackbits(raw, axis=1, count=n_cols).astype(bool)

    cell_key = group.astype(np.int64) * (n_cols + 1) + score[kept]
    order = np.argsort(cell_key, kind="stable")
    sorted_key = cell_key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    ends = np.r_[starts[1:], len(sorted_key)]
    right = right[kept[order]]  # one copy, rows grouped by cell
    counts = np.empty((len(starts), n_cols))
    for c, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
        counts[c] = np.count_nonzero(right[lo:hi], axis=0)
    first = sorted_key[starts]
    cell_n = (ends - starts).astype(float)
    return _Cells(
        cols=cols,
        patterns=patterns,
        cell_group=first // (n_cols + 1),
        cell_score=first % (n_cols + 1),
        cell_n=cell_n,
        counts=counts,
    )


def _prune(correct, presented, anchors: dict[int, float]) -> tuple[_Cells, np.ndarray]:
    """Drop items with all-correct/all-wrong responses among informative persons.

    Removing an item changes raw scores, which can make further persons extreme and further
    items extreme, so this repeats until nothing changes. Returns the final cells and the
    full-length mask of items taking part (estimable or anchored).
    """
    n_items = correct.shape[1]
    active = np.ones(n_items, dtype=bool)
    is_anchor = np.zeros(n_items, dtype=bool)
    is_anchor[list(anchors)] = True
    while True:
        cols = np.flatnonzero(active)
        cells = _cells(correct, presented, cols)
        n = cells.n_responses()
        s = cells.totals()
        bad = ((s <= 0) | (s >= n)) & ~is_anchor[cols]
        if not bad.any():
            return cells, active
        active[cols[bad]] = False


def _check_connected(cells: _Cells, free: np.ndarray, has_anchor: np.ndarray) -> None:
    """Every linked component of the design must contain an anchor, or be the only one."""
    n = len(cells.cols)
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for pattern in cells.patterns:
        items = np.flatnonzero(pattern)
        root = find(items[0])
        for j in items[1:]:
            rj = find(j)
            if rj != root:
                parent[rj] = root
    roots = np.array([find(i) for i in range(n)])
    free_roots = set(roots[free].tolist())
    if not free_roots:
        return
    if has_anchor.any():
        anchored_roots = set(roots[has_anchor].tolist())
        if free_roots - anchored_roots:
            raise ValueError(
                "some items are not linked to any anchor item through common persons; "
                "their difficulties cannot be put on the anchors' scale"
            )
    elif len(free_roots) > 1:
        raise ValueError(
            "the design is not connected: some items share no persons (directly or through "
            "other items) with the rest, so no common scale exists; add anchors or link forms"
        )


# --------------------------------------------------------------------------------------
# CML and JML
# --------------------------------------------------------------------------------------


def _calibrate_conditional_or_joint(correct, presented, anchors, method) -> Calibration:
    n_items = correct.shape[1]
    cells, active = _prune(correct, presented, anchors)
    cols = cells.cols
    is_anchor = np.array([int(c) in anchors for c in cols], dtype=bool)
    free = ~is_anchor
    _check_connected(cells, free, is_anchor)

    b = np.full(len(cols), np.nan)
    b[is_anchor] = [anchors[int(c)] for c in cols[is_anchor]]
    n_resp = cells.n_responses()
    s = cells.totals()
    if free.any():
        start = np.log((n_resp[free] - s[free]) / s[free])
        if is_anchor.any():
            # Shift so that the anchors' own start values would match their fixed values.
            anchor_start = np.log(
                np.clip(n_resp[is_anchor] - s[is_anchor], 0.5, None)
                / np.clip(s[is_anchor], 0.5, None)
            )
            start = start - anchor_start.mean() + b[is_anchor].mean()
        else:
            start = start - start.mean()
        b[free] = start

    if method == "cml":
        b, cov, loglik, iterations, converged = _cml(cells, b, free)
        se_cols = np.sqrt(np.clip(np.diag(cov), 0, None)) if free.any() else None
    else:
        b, se_free, loglik, iterations, converged = _jml(cells, b, free, is_anchor)
        se_cols = se_free

    difficulties = np.full(n_items, np.nan)
    difficulties[cols] = b
    se = np.full(n_items, np.nan)
    if se_cols is not None:
        se[cols[free]] = se_cols
    infit = np.full(n_items, np.nan)
    outfit = np.full(n_items, np.nan)
    infit[cols], outfit[cols] = _item_fit(cells, b)
    n_responses = np.zeros(n_items)
    n_responses[cols] = n_resp
    anchored = np.zeros(n_items, dtype=bool)
    anchored[list(anchors)] = True
    return Calibration(
        difficulties=difficulties,
        se=se,
        infit=infit,
        outfit=outfit,
        method=method,
        estimable=active.copy(),
        anchored=anchored,
        n_persons=int(cells.cell_n.sum()),
        n_items=n_items,
        iterations=iterations,
        converged=converged,
        log_likelihood=float(loglik),
        n_responses=n_responses,
    )


def _log_esf_leave_one_out(log_e: np.ndarray) -> np.ndarray:
    """Log ESFs of exp(log_e) by the summation algorithm, with every single item left out.

    Returns an (n + 1) x (n + 1) array: row i < n holds log gamma_r of all items but i,
    row n holds log gamma_r of all items; column r is the order r (-inf where empty).

    The recursion runs in linear arithmetic on exp(log_e - mean) (so the values stay near 1
    and the result is rescaled by r * mean afterwards), renormalising every row every few
    steps and keeping the log of the scale factors; only if some order still falls below
    the range where that is exact (extremely long or spread-out tests) does it fall back to
    the same recursion in log space.
    """
    n = len(log_e)
    centre = float(log_e.mean())
    e = np.exp(log_e - centre)
    out = np.zeros((n + 1, n + 1))
    out[:, 0] = 1.0
    log_scale = np.zeros(n + 1)
    # Between renormalisations a row can grow by at most (1 + max e) per step.
    every = max(1, int(300 / np.log1p(e.max())))
    for k in range(n):
        add = out[:, : k + 1] * e[k]
        add[k] = 0.0  # row k leaves item k out
        out[:, 1 : k + 2] += add
        if (k + 1) % every == 0 or k == n - 1:
            top = out.max(axis=1)
            out /= top[:, None]
            out[out < 1e-290] = 0.0  # keep subnormals (slow, and meaningless here) out
            log_scale += np.log(top)
    with np.errstate(divide="ignore"):
        result = np.log(out) + log_scale[:, None]
    degree = np.r_[np.full(n, n - 1), n]
    orders = np.arange(n + 1)
    if np.isneginf(result[orders[None, :] <= degree[:, None]]).any():
        result = _log_esf_leave_one_out_logspace(log_e - centre)
    return result + orders[None, :] * centre


def _log_esf_leave_one_out_logspace(log_e: np.ndarray) -> np.ndarray:
    n = len(log_e)
    out = np.full((n + 1, n + 1), -np.inf)
    out[:, 0] = 0.0
    for k in range(n):
        add = out[:, : k + 1] + log_e[k]
        add[k] = -np.inf
        out[:, 1 : k + 2] = np.logaddexp(out[:, 1 : k + 2], add)
    return out


def _log_esf_leave_two_out(log_e: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Log ESFs with both items of each pair left out: len(pairs) x (n + 1)."""
    n = len(log_e)
    out = np.full((len(pairs), n + 1), -np.inf)
    out[:, 0] = 0.0
    for k in range(n):
        add = out[:, : k + 1] + log_e[k]
        add[(pairs[:, 0] == k) | (pairs[:, 1] == k)] = -np.inf
        out[:, 1 : k + 2] = np.logaddexp(out[:, 1 : k + 2], add)
    return out


def _cml_group(log_e, scores, counts, *, want_info: bool):
    """One design group's contribution: -sum n_r log gamma_r, expected totals, information.

    The information is sum_r n_r Cov(x | r) over the group's items.
    """
    n = len(log_e)
    esf = _log_esf_leave_one_out(log_e)
    full = esf[n]
    loglik = -float(counts @ full[scores])
    # P(x_i = 1 | r) = e_i gamma_{r-1}^(i) / gamma_r
    pi = np.exp(log_e[None, :] + esf[:n, scores - 1].T - full[scores][:, None])
    expected = counts @ pi
    if not want_info:
        return loglik, expected, None
    # Sum over r of n_r P(x_i = x_j = 1 | r) = (e_j E_i - e_i E_j) / (e_j - e_i), written with
    # c = 1 / e = exp(b) as (E_i c_i - E_j c_j) / (c_i - c_j).
    shift = log_e.max()
    c = np.exp(-(log_e - shift))
    a = expected * c
    diff_c = c[:, None] - c[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        joint = (a[:, None] - a[None, :]) / diff_c
    close = np.abs(diff_c) <= _CLOSE * np.maximum(c[:, None], c[None, :])
    np.fill_diagonal(close, False)
    if close.any():
        pairs = np.argwhere(np.triu(close))
        esf2 = _log_esf_leave_two_out(log_e, pairs)
        ok = scores >= 2
        r = scores[ok]
        lp = (
            log_e[pairs[:, 0]][:, None]
            + log_e[pairs[:, 1]][:, None]
            + esf2[:, r - 2]
            - full[r][None, :]
        )
        values = np.exp(lp) @ counts[ok]
        joint[pairs[:, 0], pairs[:, 1]] = values
        joint[pairs[:, 1], pairs[:, 0]] = values
    info = joint - (pi * counts[:, None]).T @ pi
    np.fill_diagonal(info, expected - counts @ (pi * pi))
    return loglik, expected, info


def _cml_evaluate(cells: _Cells, b: np.ndarray, *, want_info: bool):
    """Conditional log likelihood, gradient (E - s) and information over all items."""
    n = len(b)
    log_e = -b
    s = cells.totals()
    loglik = float(s @ log_e)
    expected = np.zeros(n)
    info = np.zeros((n, n)) if want_info else None
    for g in range(len(cells.patterns)):
        items = np.flatnonzero(cells.patterns[g])
        which = cells.group_cells(g)
        scores = cells.cell_score[which].astype(np.int64)
        counts = cells.cell_n[which]
        ll, e_g, info_g = _cml_group(log_e[items], scores, counts, want_info=want_info)
        loglik += ll
        expected[items] += e_g
        if want_info:
            info[np.ix_(items, items)] += info_g
    return loglik, expected - s, info


def _cml(cells: _Cells, b: np.ndarray, free: np.ndarray):
    b = b.copy()
    n_free = int(free.sum())
    centred = n_free == len(b)  # no anchors: the likelihood is translation invariant
    if n_free == 0:
        loglik, _, _ = _cml_evaluate(cells, b, want_info=False)
        return b, np.zeros((0, 0)), loglik, 0, True
    loglik, grad, info = _cml_evaluate(cells, b, want_info=True)
    converged = False
    iterations = 0
    for iterations in range(1, _MAX_ITER + 1):  # noqa: B007
        step = _newton_step(info[np.ix_(free, free)], grad[free], centred)
        biggest = np.abs(step).max()
        if biggest > 1.0:  # keep early steps inside the region where the quadratic model holds
            step = step / biggest
        scale = 1.0
        for _ in range(30):
            trial = b.copy()
            trial[free] += scale * step
            new_loglik, new_grad, new_info = _cml_evaluate(cells, trial, want_info=True)
            if new_loglik >= loglik - 1e-12 * abs(loglik):
                break
            scale /= 2
        b, loglik, grad, info = trial, new_loglik, new_grad, new_info
        if centred:
            b -= b.mean()
        if scale * biggest < _TOL:
            converged = True
            break
    cov = _covariance(info[np.ix_(free, free)], centred)
    return b, cov, loglik, iterations, converged


def _newton_step(info: np.ndarray, grad: np.ndarray, centred: bool) -> np.ndarray:
    if centred:
        # info has the constant vector in its null space; adding the projector onto it
        # makes the system regular without changing the solution on the sum-zero subspace.
        m = len(grad)
        shift = np.full((m, m), np.mean(np.diag(info)) / m)
        return _solve_spd(info + shift, grad - grad.mean())
    return _solve_spd(info, grad)


def _solve_spd(matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    try:
        return cho_solve(cho_factor(matrix), rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(matrix, rhs, rcond=None)[0]


def _covariance(info: np.ndarray, centred: bool) -> np.ndarray:
    m = len(info)
    if centred:
        projector = np.full((m, m), 1.0 / m)
        return _solve_spd(info + projector, np.eye(m)) - projector
    return _solve_spd(info, np.eye(m))


def _jml(cells: _Cells, b: np.ndarray, free: np.ndarray, is_anchor: np.ndarray):
    b = b.copy()
    if len(cells.cell_n) == 0 or not free.any():
        return b, np.full(int(free.sum()), np.nan), 0.0, 0, True
    seen = cells.seen
    s = cells.totals()
    n_cell = cells.cell_n
    theta = _theta_mle(cells, b)
    centred = not is_anchor.any()
    converged = False
    iterations = 0
    for iterations in range(1, 10 * _MAX_ITER + 1):  # noqa: B007
        # Item step: one Newton step per free item given the abilities.
        p = expit(theta[:, None] - b[None, :]) * seen
        expected = n_cell @ p
        info = n_cell @ (p * (1 - p))
        step = np.zeros_like(b)
        step[free] = np.clip((expected[free] - s[free]) / info[free], -1.0, 1.0)
        b = b + step
        if centred:
            b -= b.mean()
        new_theta = _theta_mle(cells, b)
        change = max(np.abs(step).max(), np.abs(new_theta - theta).max())
        theta = new_theta
        if change < _TOL:
            converged = True
            break
    p = expit(theta[:, None] - b[None, :])
    with np.errstate(divide="ignore"):
        loglik = float(
            np.sum(
                cells.counts * np.log(p) + (n_cell[:, None] - cells.counts) * np.log1p(-p),
                where=seen,
            )
        )
    info = n_cell @ (p * (1 - p) * seen)
    length = float(n_cell @ seen.sum(axis=1) / n_cell.sum())
    factor = (length - 1) / length
    if centred:
        b = b * factor
    elif free.any():
        centre = b[is_anchor].mean()
        b[free] = centre + (b[free] - centre) * factor
    se = factor / np.sqrt(info[free])
    return b, se, loglik, iterations, converged


def _theta_mle(cells: _Cells, b: np.ndarray) -> np.ndarray:
    """Maximum-likelihood ability for each cell (non-extreme raw score) given b."""
    seen = cells.seen
    r = cells.cell_score.astype(float)
    length = seen.sum(axis=1)
    mean_b = (seen * np.nan_to_num(b)).sum(axis=1) / np.maximum(length, 1)
    theta = np.log(r / (length - r)) + mean_b
    for _ in range(100):
        p = expit(theta[:, None] - b[None, :]) * seen
        step = (r - p.sum(axis=1)) / (p * (1 - p)).sum(axis=1)
        step = np.clip(step, -2.0, 2.0)
        theta = theta + step
        if np.abs(step).max() < 1e-12:
            break
    return theta


def _item_fit(cells: _Cells, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(b)
    if len(cells.cell_n) == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    seen = cells.seen
    theta = _theta_mle(cells, b)
    p = expit(theta[:, None] - b[None, :])
    variance = p * (1 - p)
    n_cell = cells.cell_n[:, None]
    # sum over the cell's persons of (x - p)^2 = (#right)(1 - 2p) + n p^2, since x^2 = x
    squared = (cells.counts * (1 - 2 * p) + n_cell * p * p) * seen
    weight = n_cell * variance * seen
    with np.errstate(divide="ignore", invalid="ignore"):
        outfit = (squared / np.where(seen, variance, 1.0)).sum(axis=0) / (n_cell * seen).sum(axis=0)
        infit = squared.sum(axis=0) / weight.sum(axis=0)
    return infit, outfit


# --------------------------------------------------------------------------------------
# MML
# --------------------------------------------------------------------------------------


def _calibrate_mml(correct: np.ndarray, anchors: dict[int, float]) -> Calibration:
    n_persons, n_items = correct.shape
    totals = correct.sum(axis=0)
    is_anchor = np.zeros(n_items, dtype=bool)
    is_anchor[list(anchors)] = True
    active = ((totals > 0) & (totals < n_persons)) | is_anchor
    cols = np.flatnonzero(active)
    free = ~is_anchor[cols]
    # Under the Rasch model a person's posterior over the ability depends on the responses
    # only through the raw score, so the marginal likelihood and its derivatives need just
    # the item totals and the raw-score distribution.
    item_totals = totals[cols].astype(float)
    scores = np.arange(len(cols) + 1)
    n_score = np.bincount(correct[:, cols].sum(axis=1), minlength=len(cols) + 1).astype(float)

    b = np.full(len(cols), np.nan)
    b[~free] = [anchors[int(c)] for c in cols[~free]]
    # (clipped: an anchored item may be all right or all wrong)
    p_obs = np.clip(totals[cols] / n_persons, 0.5 / n_persons, 1 - 0.5 / n_persons)
    start = -np.log(p_obs / (1 - p_obs)) * 1.2
    b[free] = start[free]
    estimate_mean = bool(is_anchor.any())
    mu = 0.0
    if estimate_mean:
        mu = float(np.mean(b[~free] - start[~free]))
        # Start the free items on the anchors' scale as well.
        b[free] += mu

    nodes, weights = hermegauss(_MML_POINTS)
    log_w = np.log(weights / weights.sum())

    # Parameters: free difficulties, then (with anchors) the ability mean. Every item's
    # effective location is b - mu, so the chain rule is one linear map.
    n_par = int(free.sum()) + int(estimate_mean)
    jac = np.zeros((len(cols), n_par))
    jac[np.flatnonzero(free), np.arange(int(free.sum()))] = 1.0
    if estimate_mean:
        jac[:, -1] = -1.0

    def evaluate(b_eff):
        logit = nodes[None, :] - b_eff[:, None]  # items x nodes
        log_q = -np.logaddexp(0.0, logit)
        # log P(pattern | node) = r * node - x.b + sum_i log Q_i(node); x.b drops out of the
        # posterior and contributes -totals.b to the log likelihood.
        ll = scores[:, None] * nodes[None, :] + log_q.sum(axis=0)[None, :] + log_w[None, :]
        top = ll.max(axis=1, keepdims=True)
        post = np.exp(ll - top)
        norm = post.sum(axis=1, keepdims=True)
        loglik = float(n_score @ (np.log(norm[:, 0]) + top[:, 0]) - item_totals @ b_eff)
        post /= norm  # scores x nodes
        p = expit(logit)
        n_k = n_score @ post
        grad = p @ n_k - item_totals
        m = post @ p.T  # scores x items: posterior mean of P given the raw score
        hess = (p * n_k) @ p.T - (m * n_score[:, None]).T @ m
        hess[np.diag_indices_from(hess)] -= (p * (1 - p)) @ n_k
        return loglik, grad, hess

    if n_par == 0:
        loglik, _, hess = evaluate(b)
        iterations, converged = 0, True
        cov = np.zeros((0, 0))
    else:
        loglik, grad, hess = evaluate(b - mu)
        converged = False
        iterations = 0
        for iterations in range(1, _MAX_ITER + 1):  # noqa: B007
            g = jac.T @ grad
            h = jac.T @ hess @ jac
            try:
                step = -np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                step = g / np.maximum(np.abs(np.diag(h)), 1e-8)
            if g @ step < 0:  # not an ascent direction away from the optimum: use gradient
                step = g / np.maximum(np.abs(np.diag(h)), 1e-8)
            biggest = np.abs(step).max()
            if biggest > 1.0:
                step = step / biggest
            scale = 1.0
            for _ in range(30):
                delta = jac @ (scale * step)
                new = evaluate(b - mu + delta)
                if new[0] >= loglik - 1e-12 * abs(loglik):
                    break
                scale /= 2
            par_step = scale * step
            b[free] += par_step[: int(free.sum())]
            if estimate_mean:
                mu += par_step[-1]
            loglik, grad, hess = new
            if np.abs(par_step).max() < _TOL:
                converged = True
                break
        h = jac.T @ hess @ jac
        cov = np.linalg.inv(-h)

    se = np.full(n_items, np.nan)
    se[cols[free]] = np.sqrt(np.clip(np.diag(cov)[: int(free.sum())], 0, None))
    difficulties = np.full(n_items, np.nan)
    difficulties[cols] = b
    cells = _cells(correct, np.ones_like(correct), cols)
    infit = np.full(n_items, np.nan)
    outfit = np.full(n_items, np.nan)
    infit[cols], outfit[cols] = _item_fit(cells, b)
    n_responses = np.zeros(n_items)
    n_responses[cols] = n_persons
    anchored = is_anchor.copy()
    return Calibration(
        difficulties=difficulties,
        se=se,
        infit=infit,
        outfit=outfit,
        method="mml",
        estimable=active,
        anchored=anchored,
        n_persons=n_persons,
        n_items=n_items,
        iterations=iterations,
        converged=converged,
        log_likelihood=loglik,
        n_responses=n_responses,
    )
