"""Train a small neural network on scikit-learn's digits, logging validation accuracy every epoch.

Run by hand it trains once with the defaults and prints what it logs:
    python train.py --hidden 64 --epochs 10
Run by hypersweep, every sampled value arrives as a command-line argument.

It saves a checkpoint (model and epoch) to outputs/checkpoint.joblib after every epoch; with
--resume-from DIR (what hypersweep passes to a resumed child run) it continues from DIR's checkpoint.
"""

import argparse
import os
import warnings

import joblib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from hypersweep import Run

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

run = Run.get_context()
run.log("hidden", args.hidden)
run.log("learning_rate", args.learning_rate)

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
    run.log("accuracy", accuracy)  # one interval of the primary metric per epoch
    run.log("loss", model.loss_)
    run.log("epoch", epoch)
    joblib.dump({"model": model, "epoch": epoch}, "outputs/checkpoint.joblib")
    print(f"epoch {epoch:3d}  loss {model.loss_:.4f}  accuracy {accuracy:.4f}")

joblib.dump(model, "outputs/model.joblib")
