"""train.py, logging with MLflow instead of hypersweep's Run: as a script written for Azure ML v2 does.

Nothing in it knows hypersweep. Run by hand, it logs to MLflow's default local store:
    python train_mlflow.py --hidden 64 --epochs 10
Run by hypersweep (sweep_mlflow.yml), MLFLOW_TRACKING_URI points at the sweep, so every
``mlflow.log_metric("accuracy", ...)`` is one interval of the sweep's policy, live; the params are
the run's ``params.*`` tags, and ``mlflow.log_artifact`` lands in the run's outputs/.

It saves a checkpoint (model and epoch) to outputs/checkpoint.joblib after every epoch; with
--resume-from DIR (what hypersweep passes to a resumed child run) it continues from DIR's checkpoint.
"""

import argparse
import os
import warnings

import joblib
import mlflow
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--hidden", type=int, default=32, help="hidden units")
parser.add_argument("--alpha", type=float, default=1e-4, help="L2 penalty")
parser.add_argument(
    "--learning-rate", type=float, default=1e-3, help="Adam's initial learning rate"
)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--resume-from", help="a folder with a checkpoint.joblib to continue from")
args = parser.parse_args()

mlflow.start_run()  # under hypersweep: the trial's run
mlflow.log_params(
    {
        "hidden": args.hidden,
        "alpha": args.alpha,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
    }
)

X, y = load_digits(return_X_y=True)
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(X_train)
X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

model = MLPClassifier(
    hidden_layer_sizes=(args.hidden,),
    alpha=args.alpha,
    learning_rate_init=args.learning_rate,
    batch_size=args.batch_size,
    random_state=args.seed,
)
rng = np.random.default_rng(args.seed)
classes = np.unique(y)
first_epoch = 1
if args.resume_from:
    checkpoint = joblib.load(os.path.join(args.resume_from, "checkpoint.joblib"))
    model, first_epoch = checkpoint["model"], checkpoint["epoch"] + 1
    rng = np.random.default_rng([args.seed, first_epoch])
    print(f"resumed from {args.resume_from} at epoch {first_epoch}")
os.makedirs("outputs", exist_ok=True)
for epoch in range(first_epoch, args.epochs + 1):
    order = rng.permutation(len(X_train))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(X_train[order], y_train[order], classes=classes)
    accuracy = model.score(X_val, y_val)
    mlflow.log_metric(
        "accuracy", accuracy, step=epoch
    )  # one interval of the primary metric per epoch
    mlflow.log_metric("loss", model.loss_, step=epoch)
    joblib.dump({"model": model, "epoch": epoch}, "outputs/checkpoint.joblib")
    print(f"epoch {epoch:3d}  loss {model.loss_:.4f}  accuracy {accuracy:.4f}")

joblib.dump(model, "outputs/model.joblib")
mlflow.log_artifact(
    "outputs/model.joblib", artifact_path="model"
)  # the run's outputs/model/model.joblib
mlflow.end_run()
