#!/usr/bin/env python3
"""Fits scikit-learn's HistGradientBoosting (or XGBoost's hist method) on a CSV and a given
train/test split, and prints one JSON line: metrics on the test rows, fit seconds, prediction
rows/s and the process's peak RSS. For comparisons only (bench/gbdt.ts); FluxOps never runs
Python at run time.

Usage: reference.py (--csv data.csv --target y | --npy X.npy --y y.npy) --split split.json
       --task binary|multiclass|regression [--lib sklearn|xgboost] [--exclude a,b]
       [--categorical a,b] [--params '{"max_iter": 100}'] [--repeats N]
split.json holds {"train": [row indices], "test": [row indices]} (0-based data rows).
CSV: text columns are ordinal-encoded in sorted order (as FluxOps does) and treated as
categorical (by scikit-learn; XGBoost sees the codes as numbers). --npy: a float64 n×d matrix
(NaN = missing, no categorical features) and its n targets (class labels or values), for data
too large to parse as CSV quickly; loading is not timed either way.
Only model.fit is timed; with --repeats N the model is fitted N times and fit_seconds is the
median (fit_seconds_all lists each). Prediction: the test rows in one batch, repeated for at
least 0.5 s after one untimed call; classifiers run predict_proba alone (the label is its argmax, which is what predict
computes), regressors predict."""
import argparse, json, os, resource, sys, time

import numpy as np


def load(path, target, exclude, categorical):
    import csv
    with open(path, newline='') as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    cols = [c for c in header if c != target and c not in exclude]
    X = np.empty((len(body), len(cols)))
    cat_mask = []
    for j, c in enumerate(cols):
        k = header.index(c)
        cells = [r[k] for r in body]
        try:
            vals = [float(v) if v != '' else np.nan for v in cells]
            is_text = False
        except ValueError:
            is_text = True
        if is_text:
            cats = sorted({v for v in cells if v != ''})
            pos = {v: i for i, v in enumerate(cats)}
            vals = [pos[v] if v != '' else np.nan for v in cells]
        X[:, j] = vals
        cat_mask.append(is_text or c in categorical)
    tk = header.index(target)
    y_raw = [r[tk] for r in body]
    return X, y_raw, cols, np.array(cat_mask)


def machine_busy_seconds():
    """Busy CPU seconds of the whole machine since boot (/proc/stat, all but idle and iowait), or None."""
    try:
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf('SC_CLK_TCK')
    except (OSError, ValueError, IndexError):
        return None


def own_cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--csv')
    ap.add_argument('--target')
    ap.add_argument('--npy', help='float64 n×d feature matrix (.npy), instead of --csv')
    ap.add_argument('--y', help='with --npy: the n targets (.npy)')
    ap.add_argument('--repeats', type=int, default=1)
    ap.add_argument('--split', required=True)
    ap.add_argument('--task', required=True, choices=['binary', 'multiclass', 'regression'])
    ap.add_argument('--lib', default='sklearn', choices=['sklearn', 'xgboost'])
    ap.add_argument('--exclude', default='')
    ap.add_argument('--categorical', default='')
    ap.add_argument('--params', default='{}')
    a = ap.parse_args()
    exclude = [c for c in a.exclude.split(',') if c]
    categorical = [c for c in a.categorical.split(',') if c]
    if (a.csv is None) == (a.npy is None):
        ap.error('give either --csv (with --target) or --npy (with --y)')
    if a.npy is not None:
        if a.y is None:
            ap.error('--npy needs --y')
        X = np.load(a.npy)
        y_in = np.load(a.y)
        cat_mask = np.zeros(X.shape[1], dtype=bool)
        # Class labels become their positions in sorted order, as below and in FluxOps.
        y = y_in.astype(float) if a.task == 'regression' else np.unique(y_in, return_inverse=True)[1]
    else:
        if a.target is None:
            ap.error('--csv needs --target')
        X, y_raw, cols, cat_mask = load(a.csv, a.target, exclude, categorical)
        if a.task == 'regression':
            y = np.array([float(v) for v in y_raw])
        else:
            try:
                labels = sorted({float(v) for v in y_raw})
                y = np.array([labels.index(float(v)) for v in y_raw])
            except ValueError:
                labels = sorted(set(y_raw))
                y = np.array([labels.index(v) for v in y_raw])
    with open(a.split) as f:
        split = json.load(f)
    tr, te = np.array(split['train']), np.array(split['test'])
    params = json.loads(a.params)
    def make():
        p = dict(params)
        if a.lib == 'sklearn':
            from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
            cats = cat_mask if cat_mask.any() else None
            Model = HistGradientBoostingRegressor if a.task == 'regression' else HistGradientBoostingClassifier
            return Model(categorical_features=cats, random_state=p.pop('random_state', 42), **p)
        import xgboost as xgb
        Model = xgb.XGBRegressor if a.task == 'regression' else xgb.XGBClassifier
        return Model(tree_method='hist', **p)
    Xtr, ytr = X[tr], y[tr]
    fits = []
    wall0, own0, busy0 = time.perf_counter(), own_cpu_seconds(), machine_busy_seconds()
    for _ in range(max(1, a.repeats)):
        model = make()
        t0 = time.perf_counter()
        model.fit(Xtr, ytr)
        fits.append(time.perf_counter() - t0)
    wall = time.perf_counter() - wall0
    own = own_cpu_seconds() - own0
    busy1 = machine_busy_seconds()
    other_cores = None if busy0 is None or busy1 is None else max(0.0, busy1 - busy0 - own) / wall
    fit_s = float(np.median(fits))
    Xte = X[te]

    def predict():
        return (model.predict(Xte), None) if a.task == 'regression' else (None, model.predict_proba(Xte))
    predict()  # one untimed call (the FluxOps child warms its predictor the same way)
    t0 = time.perf_counter()
    reps = 0
    while True:
        pred, proba = predict()
        reps += 1
        if time.perf_counter() - t0 > 0.5:
            break
    pred_s = (time.perf_counter() - t0) / reps
    if proba is not None:
        pred = np.argmax(proba, axis=1)
    from sklearn import metrics as M
    yt = y[te]
    if a.task == 'binary':
        m = dict(accuracy=M.accuracy_score(yt, pred), f1=M.f1_score(yt, pred), roc_auc=M.roc_auc_score(yt, proba[:, 1]),
                 precision=M.precision_score(yt, pred), recall=M.recall_score(yt, pred), log_loss=M.log_loss(yt, proba))
    elif a.task == 'multiclass':
        m = dict(accuracy=M.accuracy_score(yt, pred), f1_macro=M.f1_score(yt, pred, average='macro'), log_loss=M.log_loss(yt, proba))
    else:
        m = dict(rmse=float(np.sqrt(M.mean_squared_error(yt, pred))), mae=M.mean_absolute_error(yt, pred), r2=M.r2_score(yt, pred))
    iters = getattr(model, 'n_iter_', None)
    if iters is None and a.lib == 'xgboost':
        iters = model.get_booster().num_boosted_rounds()
    try:  # the OpenMP threads both libraries fit and predict with (all cores unless limited)
        from threadpoolctl import threadpool_info
        threads = max((i['num_threads'] for i in threadpool_info() if i.get('user_api') == 'openmp'), default=None)
    except Exception:
        threads = None
    early = bool(getattr(model, 'do_early_stopping_', False))  # XGBoost: never here (no eval set)
    out = dict(lib=a.lib, threads=threads, early_stopping=early, version=__import__(a.lib).__version__, metrics={k: float(v) for k, v in m.items()}, fit_seconds=fit_s,
               fit_seconds_all=fits, train_rows=int(len(tr)), test_rows=int(len(te)),
               predict_rows_per_second=len(te) / pred_s, iterations=int(iters) if iters is not None else None,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               fit_cpu_cores=own / wall, other_cpu_cores=other_cores)
    print(json.dumps(out))


if __name__ == '__main__':
    sys.exit(main())
