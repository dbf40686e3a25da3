"""Boosted trees on the iris CSV; logs the test multi-class log loss (scikit-learn's, standing in for LightGBM)."""

import argparse
import csv

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from hypersweep import Run


def read_iris(path):
    """The four feature columns and the ``species`` column of an iris CSV, without pandas."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    features = [name for name in rows[0] if name != "species"]
    X = np.array([[float(r[name]) for name in features] for r in rows])
    y = np.array([r["species"] for r in rows])
    return X, y


parser = argparse.ArgumentParser()
parser.add_argument("--iris-csv", type=str)
parser.add_argument("--learning-rate", type=float, default=0.1)
parser.add_argument("--boosting", type=str, default="gbdt")
args = parser.parse_args()

X, y = read_iris(args.iris_csv)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
model = HistGradientBoostingClassifier(learning_rate=args.learning_rate, max_iter=20).fit(
    X_train, y_train
)
Run.get_context().log("test-multi_logloss", log_loss(y_test, model.predict_proba(X_test)))
