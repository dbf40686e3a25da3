"""An SVM on the iris CSV (columns: four features and ``species``); logs the training F1 score."""

import argparse
import csv

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

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
parser.add_argument("--C", type=float, default=1.0)
parser.add_argument("--kernel", type=str, default="rbf")
parser.add_argument("--coef0", type=float, default=0.0)
args = parser.parse_args()

X, y = read_iris(args.iris_csv)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
model = SVC(C=args.C, kernel=args.kernel, coef0=args.coef0).fit(X_train, y_train)
Run.get_context().log(
    "training_f1_score", f1_score(y_train, model.predict(X_train), average="macro")
)
