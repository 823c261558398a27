#!/usr/bin/env python3
"""Fits scikit-learn's HistGradientBoosting (or XGBoost's hist method) on a CSV and a given
train/test split, and prints one JSON line: metrics on the test rows, fit seconds, prediction
rows/s and the process's peak RSS. For comparisons only (bench/gbdt.ts and the figures in
test/unit/training.gbdt-quality.test.ts); FluxOps never runs Python at run time.

Usage: reference.py --csv data.csv --target y --split split.json --task binary|multiclass|regression
       [--lib sklearn|xgboost] [--exclude a,b] [--categorical a,b] [--params '{"max_iter": 100}']
split.json holds {"train": [row indices], "test": [row indices]} (0-based data rows).
Text columns are ordinal-encoded in sorted order (as FluxOps does) and treated as categorical."""
import argparse, json, resource, sys, time

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--csv', required=True)
    ap.add_argument('--target', required=True)
    ap.add_argument('--split', required=True)
    ap.add_argument('--task', required=True, choices=['binary', 'multiclass', 'regression'])
    ap.add_argument('--lib', default='sklearn', choices=['sklearn', 'xgboost'])
    ap.add_argument('--exclude', default='')
    ap.add_argument('--categorical', default='')
    ap.add_argument('--params', default='{}')
    a = ap.parse_args()
    exclude = [c for c in a.exclude.split(',') if c]
    categorical = [c for c in a.categorical.split(',') if c]
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
    if a.lib == 'sklearn':
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
        cats = cat_mask if cat_mask.any() else None
        Model = HistGradientBoostingRegressor if a.task == 'regression' else HistGradientBoostingClassifier
        model = Model(categorical_features=cats, random_state=params.pop('random_state', 42), **params)
    else:
        import xgboost as xgb
        Model = xgb.XGBRegressor if a.task == 'regression' else xgb.XGBClassifier
        model = Model(tree_method='hist', **params)
    t0 = time.perf_counter()
    model.fit(X[tr], y[tr])
    fit_s = time.perf_counter() - t0
    Xte = X[te]
    t0 = time.perf_counter()
    reps = 0
    while True:
        pred = model.predict(Xte)
        proba = model.predict_proba(Xte) if a.task != 'regression' else None
        reps += 1
        if time.perf_counter() - t0 > 0.5:
            break
    pred_s = (time.perf_counter() - t0) / reps
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
    out = dict(lib=a.lib, version=__import__(a.lib).__version__, metrics={k: float(v) for k, v in m.items()}, fit_seconds=fit_s,
               predict_rows_per_second=len(te) / pred_s, iterations=int(iters) if iters is not None else None,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


if __name__ == '__main__':
    sys.exit(main())
