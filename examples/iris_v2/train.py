"""Train an SVM or a random forest on the iris CSV; the model and its settings arrive as one JSON argument.

    python train.py --iris-csv iris.csv --model '{"type": "svm", "C": 1.0, "kernel": "rbf"}' --model-dir out

Logs the test accuracy with ``hypersweep.Run`` (MLflow's ``mlflow.log_metric`` works the same way once
hypersweep's MLflow support is installed) and saves the model in the ``--model-dir`` folder.
"""

import argparse
import csv
import json
import os

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier
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
parser.add_argument("--iris-csv", required=True)
parser.add_argument(
    "--model", type=json.loads, required=True, help="the chosen branch of the nested choice"
)
parser.add_argument("--test-size", type=float, default=0.3)
parser.add_argument("--model-dir", default="outputs")
args = parser.parse_args()

X, y = read_iris(args.iris_csv)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=args.test_size, random_state=0, stratify=y
)

settings = dict(args.model)
kind = settings.pop("type")
if kind == "svm":
    model = SVC(C=settings["C"], kernel=settings["kernel"])
else:
    model = RandomForestClassifier(
        n_estimators=settings["n_estimators"], max_depth=settings["max_depth"] + 1, random_state=0
    )
model.fit(X_train, y_train)

run = Run.get_context()
run.log("accuracy", model.score(X_test, y_test))
run.tag("model", kind)
os.makedirs(args.model_dir, exist_ok=True)
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
print(f"{kind} {settings}: accuracy {model.score(X_test, y_test):.3f}")
